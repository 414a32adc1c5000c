//! Starting and stopping the guard: the proxy and admin listeners, hot reload (admin call or
//! SIGHUP), graceful shutdown that drains streams with a deadline.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use anquan_catalog::Catalog;
use axum::serve::ListenerExt as _;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::alerts::Alerts;
use crate::audit::AuditLog;
use crate::config::{ConfigError, GuardConfig};
use crate::errors::Level;
use crate::metrics::Metrics;
use crate::policy::{KillSwitch, RateLimiter, State};
use crate::violations::{RepeatRule, Violations};

/// Where log lines go: the CLI prints them; libraries never do.
pub type LogFn = Arc<dyn Fn(Level, &str) + Send + Sync>;

/// Why the guard could not start or reload.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The store could not be opened.
    #[error("cannot open the guard store `{path}`: {detail}")]
    Store {
        /// The file.
        path: PathBuf,
        /// Cause.
        detail: String,
    },
    /// Something else (catalog clause missing, HTTP client).
    #[error("{0}")]
    Other(String),
}

/// What [`Guard::start`] needs.
pub struct StartOptions {
    /// The configuration.
    pub config: GuardConfig,
    /// The file it came from (reloads re-read it; relative paths resolve against its folder).
    pub config_path: Option<PathBuf>,
    /// The catalog (repeat-offender rule).
    pub catalog: Arc<Catalog>,
    /// Log sink.
    pub log: LogFn,
    /// Admin token; `None` reads the variable `server.admin-token-env` names.
    pub admin_token: Option<String>,
}

impl std::fmt::Debug for StartOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StartOptions")
            .field("config_path", &self.config_path)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    pub(crate) state: RwLock<Arc<State>>,
    pub(crate) catalog: Arc<Catalog>,
    pub(crate) kill: KillSwitch,
    pub(crate) limiter: RateLimiter,
    pub(crate) audit: AuditLog,
    pub(crate) violations: Violations,
    pub(crate) metrics: Metrics,
    pub(crate) alerts: RwLock<Arc<Alerts>>,
    pub(crate) http: reqwest::Client,
    pub(crate) log: LogFn,
    pub(crate) tasks: Mutex<JoinSet<()>>,
    pub(crate) shutdown: watch::Sender<bool>,
    pub(crate) admin_token: Option<String>,
    pub(crate) config_path: Option<PathBuf>,
    pub(crate) in_flight: AtomicI64,
    pub(crate) started: SystemTime,
}

/// The guard: shared by every request and the admin API. Cheap to clone.
#[derive(Clone)]
pub struct Guard {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("config_path", &self.inner.config_path)
            .finish_non_exhaustive()
    }
}

/// A running guard. [`Running::shutdown`] stops it gracefully.
#[derive(Debug)]
pub struct Running {
    guard: Guard,
    addr: SocketAddr,
    admin_addr: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    servers: JoinSet<()>,
}

async fn bind(addr: &str) -> Result<tokio::net::TcpListener, StartError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind {
            addr: addr.to_owned(),
            source,
        })
}

impl Guard {
    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    /// Start the proxy and the admin API.
    pub async fn start(opts: StartOptions) -> Result<Running, StartError> {
        let StartOptions {
            config,
            config_path,
            catalog,
            log,
            admin_token,
        } = opts;
        let base = config_path.as_deref().and_then(Path::parent);
        let store = GuardConfig::resolve(base, &config.store.path);
        let connect =
            Duration::from_secs_f64(config.upstream.connect_timeout_s.clamp(0.001, 600.0));
        let http = anquan_llm::client(connect).map_err(|e| StartError::Other(e.to_string()))?;
        let admin_token = admin_token
            .or_else(|| std::env::var(&config.server.admin_token_env).ok())
            .filter(|t| !t.trim().is_empty());
        let listen = config.server.listen.clone();
        let admin_listen = config.server.admin_listen.clone();
        let alerts = Alerts::new(config.alerts.clone(), http.clone());
        let cat = Arc::clone(&catalog);
        let path = config_path.clone();
        let state =
            tokio::task::spawn_blocking(move || State::build(config, path.as_deref(), &cat))
                .await
                .map_err(|e| StartError::Other(format!("policy build failed: {e}")))??;
        let rule = RepeatRule::from_catalog(&catalog).map_err(StartError::Other)?;
        let suspend_for = Duration::from_secs(state.cfg.suspension.duration_s);
        let store_err = |e: &dyn std::fmt::Display| StartError::Store {
            path: store.clone(),
            detail: e.to_string(),
        };
        let db = anquan_store::guard::GuardDb::open(&store)
            .await
            .map_err(|e| store_err(&e))?;
        let audit = AuditLog::with_db(db.clone()).await;
        let violations = Violations::with_db(db, rule, suspend_for);
        for w in &state.warnings {
            log(Level::Warn, w);
        }
        let guard = Guard {
            inner: Arc::new(Inner {
                state: RwLock::new(Arc::new(state)),
                catalog,
                kill: KillSwitch::default(),
                limiter: RateLimiter::default(),
                audit,
                violations,
                metrics: Metrics::default(),
                alerts: RwLock::new(Arc::new(alerts)),
                http,
                log,
                tasks: Mutex::new(JoinSet::new()),
                shutdown: watch::Sender::new(false),
                admin_token,
                config_path,
                in_flight: AtomicI64::new(0),
                started: SystemTime::now(),
            }),
        };
        guard.refresh_suspended().await;
        let listener = bind(&listen).await?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: listen.clone(),
            source,
        })?;
        let (stop, stop_rx) = watch::channel(false);
        let mut servers = JoinSet::new();
        let app = crate::proxy::router(guard.clone());
        let mut rx = stop_rx.clone();
        // No Nagle on client sockets: without it, small SSE chunks on a kept-alive connection
        // wait for the client's delayed ACK (about 40 ms each; found by benchsuite/guard.sh).
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        servers.spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.wait_for(|v| *v).await;
                })
                .await;
        });
        let admin_addr = if guard.inner.admin_token.is_some() {
            let admin = bind(&admin_listen).await?;
            let a = admin.local_addr().map_err(|source| StartError::Bind {
                addr: admin_listen.clone(),
                source,
            })?;
            let app = crate::admin::router(guard.clone());
            let mut rx = stop_rx;
            servers.spawn(async move {
                let _ = axum::serve(admin, app)
                    .with_graceful_shutdown(async move {
                        let _ = rx.wait_for(|v| *v).await;
                    })
                    .await;
            });
            Some(a)
        } else {
            guard.log(
                Level::Warn,
                "Admin API disabled: set the admin token variable named by server.admin-token-env.",
            );
            None
        };
        guard.log(
            Level::Info,
            &format!(
                "listen={addr} admin={} Guard started.",
                admin_addr.map_or_else(|| "off".to_owned(), |a| a.to_string())
            ),
        );
        Ok(Running {
            guard,
            addr,
            admin_addr,
            stop,
            servers,
        })
    }

    /// Write a log line through the sink.
    pub fn log(&self, level: Level, message: &str) {
        (self.inner.log)(level, message);
    }

    /// The state requests start with now.
    pub fn state(&self) -> Arc<State> {
        let g = self
            .inner
            .state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(&g)
    }

    /// Re-read the configuration file and swap the compiled state in (requests in flight keep
    /// the old one). A broken file leaves the running state untouched. Listening addresses and
    /// the store path are not reloaded.
    pub async fn reload(&self) -> Result<Vec<String>, StartError> {
        let Some(path) = self.inner.config_path.clone() else {
            return Err(StartError::Other(
                "the guard was started without a configuration file".into(),
            ));
        };
        let catalog = Arc::clone(&self.inner.catalog);
        let state = tokio::task::spawn_blocking(move || -> Result<State, ConfigError> {
            let cfg = GuardConfig::load(&path)?;
            State::build(cfg, Some(&path), &catalog)
        })
        .await
        .map_err(|e| StartError::Other(format!("policy build failed: {e}")))??;
        let warnings = state.warnings.clone();
        let alerts = Alerts::new(state.cfg.alerts.clone(), self.inner.http.clone());
        {
            let mut g = self
                .inner
                .state
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            *g = Arc::new(state);
        }
        {
            let mut a = self
                .inner
                .alerts
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            *a = Arc::new(alerts);
        }
        self.log(Level::Info, "Configuration reloaded.");
        Ok(warnings)
    }

    /// Turn the kill switch on or off, globally (`None`) or for one tenant.
    pub fn set_killed(&self, tenant: Option<&str>, on: bool) {
        self.inner.kill.set(tenant, on);
        self.log(
            Level::Warn,
            &format!(
                "tenant={} Kill switch {}.",
                tenant.unwrap_or("*"),
                if on { "on" } else { "off" }
            ),
        );
    }

    /// Kill switch: global flag and tenants switched off.
    pub fn kill_status(&self) -> (bool, Vec<String>) {
        self.inner.kill.status()
    }

    /// Requests in flight.
    pub fn in_flight(&self) -> i64 {
        self.inner.in_flight.load(Ordering::Relaxed)
    }

    /// Lift a user's suspension.
    pub async fn lift(&self, tenant: &str, user: &str) -> Result<bool, String> {
        let r = self
            .inner
            .violations
            .lift(tenant, user)
            .await
            .map_err(|e| e.to_string())?;
        self.refresh_suspended().await;
        Ok(r)
    }

    /// The Prometheus text of the metrics.
    pub fn metrics_text(&self) -> String {
        self.inner.metrics.render()
    }

    pub(crate) async fn refresh_suspended(&self) {
        if let Ok(list) = self.inner.violations.suspended(SystemTime::now()).await {
            self.inner.metrics.set_suspended(list.len() as u64);
        }
    }

    pub(crate) fn observe_alerts(&self, blocked: bool, upstream_error: bool) {
        let alerts = {
            let a = self
                .inner
                .alerts
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            Arc::clone(&a)
        };
        let fired = alerts.observe(blocked, upstream_error, Instant::now());
        for f in fired {
            self.inner.metrics.inc_alert(&f.name);
            self.log(
                Level::Warn,
                &format!(
                    "alert={} value={:.4} threshold={:.4} Alert fired.",
                    f.name, f.value, f.threshold
                ),
            );
            let alerts = Arc::clone(&alerts);
            let g = self.clone();
            self.spawn(async move {
                if let Err(e) = alerts.deliver(&f).await {
                    g.log(
                        Level::Warn,
                        &format!("alert={} error=\"{e}\" Alert webhook failed.", f.name),
                    );
                }
            });
        }
    }

    pub(crate) fn shutdown_rx(&self) -> watch::Receiver<bool> {
        self.inner.shutdown.subscribe()
    }

    /// Run `fut` as a task the shutdown waits for.
    pub(crate) fn spawn<F>(&self, fut: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let mut tasks = self
            .inner
            .tasks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while tasks.try_join_next().is_some() {}
        tasks.spawn(fut);
    }
}

impl Running {
    /// The proxy's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The admin API's address (none without an admin token).
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin_addr
    }

    /// The guard.
    pub fn guard(&self) -> &Guard {
        &self.guard
    }

    /// Reload on SIGHUP until shutdown (Unix).
    pub fn reload_on_sighup(&mut self) {
        #[cfg(unix)]
        {
            let g = self.guard.clone();
            let mut stop = self.stop.subscribe();
            self.servers.spawn(async move {
                use tokio::signal::unix::{SignalKind, signal};
                let Ok(mut hup) = signal(SignalKind::hangup()) else {
                    g.log(Level::Warn, "Cannot listen for SIGHUP; reload with the admin API.");
                    return;
                };
                loop {
                    tokio::select! {
                        _ = hup.recv() => {
                            if let Err(e) = g.reload().await {
                                g.log(Level::Error, &format!("error=\"{e}\" Reload failed; the running configuration stays."));
                            }
                        }
                        () = async { let _ = stop.wait_for(|v| *v).await; } => return,
                    }
                }
            });
        }
    }

    /// Stop accepting, let requests in flight finish for up to `server.shutdown-grace-s`, then
    /// end the streams still running (they get a closing chunk and their audit record).
    pub async fn shutdown(mut self) {
        let grace = Duration::from_secs_f64(
            self.guard
                .state()
                .cfg
                .server
                .shutdown_grace_s
                .clamp(0.0, 3600.0),
        );
        self.guard
            .log(Level::Info, "Shutting down: draining requests in flight.");
        self.stop.send_replace(true);
        let deadline = tokio::time::Instant::now() + grace;
        let drained = tokio::time::timeout_at(deadline, async {
            while self.guard.in_flight() > 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .is_ok();
        if !drained {
            self.guard.log(
                Level::Warn,
                &format!(
                    "in_flight={} Shutdown deadline reached: ending streams.",
                    self.guard.in_flight()
                ),
            );
            self.guard.inner.shutdown.send_replace(true);
        }
        let tasks = {
            let mut t = self
                .guard
                .inner
                .tasks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            std::mem::take(&mut *t)
        };
        let mut tasks = tasks;
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while self.servers.join_next().await.is_some() {}
        })
        .await;
        self.servers.abort_all();
        if let Err(e) = self.guard.inner.audit.flush().await {
            self.guard
                .log(Level::Error, &format!("error=\"{e}\" Audit flush failed."));
        }
        self.guard.log(Level::Info, "Guard stopped.");
    }
}
