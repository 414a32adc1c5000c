//! `anquan guard`: run the guardrail proxy, drive its admin API, work on its audit log.

use std::io::{Read as _, Write as _};
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use anquan_guard::admin::AdminClient;
use anquan_guard::audit::{AuditLog, min_retention_days};
use anquan_guard::{Guard, GuardConfig, Level, LogFn, StartOptions};
use anyhow::Context as _;
use serde_json::json;

use super::eval::runtime;
use super::load_catalog;
use crate::ExitStatus;
use crate::args::{
    Cli, GuardArgs, GuardAuditCommand, GuardAuditFormat, GuardCommand, GuardConfigArg,
    GuardTenantArgs,
};
use crate::output::{Out, with_hint};

pub(crate) fn run(args: &GuardArgs, cli: &Cli, out: &mut Out) -> anyhow::Result<ExitStatus> {
    match &args.command {
        None => serve(&args.run, cli),
        Some(GuardCommand::Run(c)) => serve(c, cli),
        Some(GuardCommand::Kill(a)) => switch(a, "/admin/kill", out),
        Some(GuardCommand::Resume(a)) => switch(a, "/admin/resume", out),
        Some(GuardCommand::Status(a)) => status(a, out),
        Some(GuardCommand::Lift(a)) => {
            let cfg = load_config(&a.config.config)?;
            let v = admin_call(
                &cfg,
                "/admin/lift",
                Some(json!({"tenant": a.tenant, "user": a.user})),
            )?;
            if out.json {
                out.json_value(&v);
            } else if v["lifted"].as_bool() == Some(true) {
                out.line(format!(
                    "{} {}/{}",
                    out.t("已解除暂停：", "suspension lifted:"),
                    a.tenant,
                    a.user
                ));
            } else {
                out.line(format!(
                    "{} {}/{}",
                    out.t("该用户未被暂停：", "not suspended:"),
                    a.tenant,
                    a.user
                ));
            }
            Ok(ExitStatus::Success)
        }
        Some(GuardCommand::Audit(a)) => audit(&a.command, cli, out),
        Some(GuardCommand::HashKey(a)) => {
            let key = if a.key == "-" {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .context("failed to read the key from standard input")?;
                s.trim().to_owned()
            } else {
                a.key.clone()
            };
            if key.is_empty() {
                return Err(with_hint(
                    "the key is empty",
                    "pass the key, or `-` and the key on stdin",
                ));
            }
            out.line(anquan_guard::auth::hash_key(&key));
            Ok(ExitStatus::Success)
        }
    }
}

fn load_config(path: &Path) -> anyhow::Result<GuardConfig> {
    if !path.is_file() {
        return Err(with_hint(
            format!("no guard configuration at `{}`", path.display()),
            "copy examples/guard.toml and pass it with --config",
        ));
    }
    Ok(GuardConfig::load(path)?)
}

fn log_line(level: Level, message: &str) {
    let now = anquan_guard::phase::rfc3339(SystemTime::now());
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{now} {:<5} {message}", level.as_str().to_uppercase());
}

fn serve(c: &GuardConfigArg, cli: &Cli) -> anyhow::Result<ExitStatus> {
    let cfg = load_config(&c.config)?;
    let catalog = Arc::new(load_catalog(cli)?);
    let rt = runtime()?;
    rt.block_on(async {
        let log: LogFn = Arc::new(log_line);
        let mut running = Guard::start(StartOptions {
            config: cfg,
            config_path: Some(c.config.clone()),
            catalog,
            log,
            admin_token: None,
        })
        .await
        .with_context(|| format!("failed to start the guard from `{}`", c.config.display()))?;
        running.reload_on_sighup();
        wait_for_stop().await;
        running.shutdown().await;
        anyhow::Ok(())
    })?;
    Ok(ExitStatus::Success)
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn admin_call(
    cfg: &GuardConfig,
    path: &str,
    body: Option<serde_json::Value>,
) -> anyhow::Result<serde_json::Value> {
    let client = AdminClient::from_config(cfg).map_err(|e| {
        with_hint(
            e,
            format!(
                "export {} with the token the guard was started with",
                cfg.server.admin_token_env
            ),
        )
    })?;
    let rt = runtime()?;
    rt.block_on(client.call(path, body))
        .map_err(|e| with_hint(e, "is `anquan guard` running with this configuration?"))
}

fn switch(a: &GuardTenantArgs, path: &str, out: &mut Out) -> anyhow::Result<ExitStatus> {
    let cfg = load_config(&a.config.config)?;
    let v = admin_call(&cfg, path, Some(json!({"tenant": a.tenant})))?;
    if out.json {
        out.json_value(&v);
    } else {
        print_kill(&v, out);
    }
    Ok(ExitStatus::Success)
}

fn print_kill(v: &serde_json::Value, out: &mut Out) {
    let global = v["killed"].as_bool().unwrap_or(false);
    out.line(format!(
        "{} {}",
        out.t("全局熔断：", "global kill switch:"),
        if global {
            out.t("开（服务已停止）", "on (service stopped)")
        } else {
            out.t("关", "off")
        }
    ));
    let tenants: Vec<&str> = v["killed_tenants"]
        .as_array()
        .map(|a| a.iter().filter_map(|t| t.as_str()).collect())
        .unwrap_or_default();
    if !tenants.is_empty() {
        out.line(format!(
            "{} {}",
            out.t("已熔断租户：", "tenants stopped:"),
            tenants.join(", ")
        ));
    }
}

fn status(a: &GuardTenantArgs, out: &mut Out) -> anyhow::Result<ExitStatus> {
    let cfg = load_config(&a.config.config)?;
    let v = admin_call(&cfg, "/admin/status", None)?;
    if out.json {
        out.json_value(&v);
        return Ok(ExitStatus::Success);
    }
    print_kill(&v, out);
    out.line(format!(
        "{} {}",
        out.t("处理中的请求：", "requests in flight:"),
        v["in_flight"]
    ));
    out.line(format!(
        "{} {} s",
        out.t("运行时间：", "uptime:"),
        v["uptime_s"]
    ));
    let suspended = v["suspended"].as_array().cloned().unwrap_or_default();
    out.line(format!(
        "{} {}",
        out.t("被暂停的用户：", "suspended users:"),
        suspended.len()
    ));
    for s in suspended
        .iter()
        .filter(|s| a.tenant.as_deref().is_none_or(|t| s["tenant"] == t))
    {
        out.line(format!(
            "  {}/{} {} {}",
            s["tenant"].as_str().unwrap_or_default(),
            s["user"].as_str().unwrap_or_default(),
            out.t("至", "until"),
            s["until"].as_str().unwrap_or_default()
        ));
    }
    Ok(ExitStatus::Success)
}

fn store_path(c: &GuardConfigArg) -> anyhow::Result<std::path::PathBuf> {
    let cfg = load_config(&c.config)?;
    let path = GuardConfig::resolve(c.config.parent(), &cfg.store.path);
    if !path.is_file() {
        return Err(with_hint(
            format!("no guard store at `{}`", path.display()),
            "the guard creates it on its first start; check `[store] path`",
        ));
    }
    Ok(path)
}

fn audit(cmd: &GuardAuditCommand, cli: &Cli, out: &mut Out) -> anyhow::Result<ExitStatus> {
    let rt = runtime()?;
    match cmd {
        GuardAuditCommand::Verify(c) => {
            let path = store_path(c)?;
            let report = rt.block_on(async {
                let log = AuditLog::open(&path).await?;
                log.verify().await
            })?;
            if out.json {
                out.json_value(&json!({
                    "schema": "anquan.guard.audit.verify.v1",
                    "records": report.records,
                    "ok": report.ok,
                    "first_bad": report.first_bad.as_ref().map(|(seq, why)| json!({"seq": seq, "why": why})),
                    "anchor": report.anchor,
                }));
            } else if report.ok {
                out.line(format!(
                    "{} {} {}",
                    out.t("审计日志哈希链完整：", "audit chain verifies:"),
                    report.records,
                    out.t("条记录", "records")
                ));
            } else if let Some((seq, why)) = &report.first_bad {
                out.line(format!(
                    "{} seq {seq}: {why}",
                    out.t(
                        "审计日志哈希链已损坏，首个问题记录：",
                        "audit chain BROKEN at"
                    )
                ));
            }
            Ok(if report.ok {
                ExitStatus::Success
            } else {
                ExitStatus::Failure
            })
        }
        GuardAuditCommand::Export {
            format: GuardAuditFormat::Jsonl,
            output,
            config,
        } => {
            let path = store_path(config)?;
            let n = rt.block_on(async {
                let log = AuditLog::open(&path).await?;
                match output {
                    Some(file) => {
                        let f = std::fs::File::create(file).map_err(|e| {
                            anyhow::anyhow!("failed to create `{}`: {e}", file.display())
                        })?;
                        let mut w = std::io::BufWriter::new(f);
                        Ok::<u64, anyhow::Error>(log.export_jsonl(&mut w).await?)
                    }
                    None => {
                        let mut w = std::io::BufWriter::new(std::io::stdout());
                        Ok(log.export_jsonl(&mut w).await?)
                    }
                }
            })?;
            if output.is_some() {
                crate::output::note(&format!("{n} records exported"));
            }
            Ok(ExitStatus::Success)
        }
        GuardAuditCommand::Prune {
            retention_days,
            config,
        } => {
            let path = store_path(config)?;
            let catalog = load_catalog(cli)?;
            let min = min_retention_days(&catalog).map_err(anyhow::Error::msg)?;
            let days = retention_days.unwrap_or(min);
            if days < min {
                return Err(with_hint(
                    format!(
                        "a retention of {days} days is below the {min} days of clause gbt45654.logs.retention"
                    ),
                    format!("use --retention-days {min} or more"),
                ));
            }
            let n = rt.block_on(async {
                let log = AuditLog::open(&path).await?;
                log.prune(SystemTime::now(), days).await
            })?;
            if out.json {
                out.json_value(&json!({"schema": "anquan.guard.audit.prune.v1", "pruned": n, "retention_days": days}));
            } else {
                out.line(format!(
                    "{} {n} ({} {days} {})",
                    out.t("已删除过期审计记录：", "records pruned:"),
                    out.t("保留", "retention"),
                    out.t("天", "days")
                ));
            }
            Ok(ExitStatus::Success)
        }
    }
}
