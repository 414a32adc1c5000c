//! The real local model server, launched for tests and the README's main job.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Why the model server could not be started.
#[derive(Debug)]
pub struct ModelServerError(pub String);

impl std::fmt::Display for ModelServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ModelServerError {}

/// A running model server on 127.0.0.1; dropping it stops the process.
#[derive(Debug)]
pub struct ModelServer {
    child: Child,
    url: String,
    model: String,
    log: PathBuf,
}

/// The cache root `scripts/setup-model` installs into.
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("ANQUAN_CACHE_DIR") {
        return PathBuf::from(d);
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".cache").join("anquan")
}

/// The model file: `ANQUAN_MODEL_PATH` or the setup script's default location.
pub fn model_path() -> PathBuf {
    std::env::var_os("ANQUAN_MODEL_PATH").map_or_else(
        || {
            cache_dir()
                .join("models")
                .join("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
        },
        PathBuf::from,
    )
}

/// Our OpenAI-compatible wrapper script.
pub fn server_script() -> PathBuf {
    std::env::var_os("ANQUAN_MODEL_SERVER").map_or_else(
        || {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("server")
                .join("serve.mjs")
        },
        PathBuf::from,
    )
}

impl ModelServer {
    /// Start the server with one thread on a free loopback port and wait (up to three minutes)
    /// until it has loaded the model. The error says what to run when something is missing.
    pub fn start() -> Result<Self, ModelServerError> {
        Self::start_with(
            &model_path(),
            "qwen2.5-coder-0.5b",
            Duration::from_secs(180),
        )
    }

    /// Start with an explicit model file and alias.
    pub fn start_with(model: &Path, alias: &str, wait: Duration) -> Result<Self, ModelServerError> {
        let script = server_script();
        if !model.is_file() {
            return Err(ModelServerError(format!(
                "the local model is not installed at {}; run scripts/setup-model first",
                model.display()
            )));
        }
        if !script.is_file() {
            return Err(ModelServerError(format!(
                "the model server script is missing at {}",
                script.display()
            )));
        }
        let log = std::env::temp_dir().join(format!(
            "anquan-model-server-{}-{}.log",
            std::process::id(),
            Instant::now().elapsed().as_nanos()
        ));
        let log_file = std::fs::File::create(&log)
            .map_err(|e| ModelServerError(format!("cannot create {}: {e}", log.display())))?;
        let mut child = Command::new("node")
            .arg(&script)
            .arg("--model")
            .arg(model)
            .args(["--host", "127.0.0.1", "--port", "0", "--threads", "1"])
            .args(["--alias", alias])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .spawn()
            .map_err(|e| {
                ModelServerError(format!(
                    "cannot run node ({e}); install Node.js 20 and run scripts/setup-model"
                ))
            })?;
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            return Err(ModelServerError("no stdout from the model server".into()));
        };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
                    && v["event"] == "listening"
                {
                    let _ = tx.send((
                        v["url"].as_str().unwrap_or_default().to_owned(),
                        v["model"].as_str().unwrap_or_default().to_owned(),
                    ));
                }
            }
        });
        let tail = |log: &Path| {
            std::fs::read_to_string(log)
                .map(|s| {
                    let lines: Vec<&str> = s.lines().collect();
                    lines[lines.len().saturating_sub(15)..].join("\n")
                })
                .unwrap_or_default()
        };
        match rx.recv_timeout(wait) {
            Ok((url, model)) => Ok(ModelServer {
                child,
                url,
                model,
                log,
            }),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(ModelServerError(format!(
                    "the model server did not become ready within {} s; its log ({}):\n{}",
                    wait.as_secs(),
                    log.display(),
                    tail(&log)
                )))
            }
        }
    }

    /// `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.url.trim_end_matches('/'))
    }

    /// The model name the server answers to.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The server's log file.
    pub fn log(&self) -> &Path {
        &self.log
    }
}

impl Drop for ModelServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
