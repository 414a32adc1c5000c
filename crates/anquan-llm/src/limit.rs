//! Client-side requests-per-minute and tokens-per-minute limits.

use std::time::Duration;

use tokio::time::Instant;

use tokio::sync::Mutex;

/// Spaces requests evenly under `rpm` and keeps a token bucket under `tpm`.
#[derive(Debug)]
pub(crate) struct Limiter {
    rpm: Option<u32>,
    tpm: Option<u32>,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    next_request: Instant,
    tokens: f64,
    refilled: Instant,
}

impl Limiter {
    pub(crate) fn new(rpm: Option<u32>, tpm: Option<u32>) -> Self {
        let now = Instant::now();
        Limiter {
            rpm: rpm.filter(|r| *r > 0),
            tpm: tpm.filter(|t| *t > 0),
            state: Mutex::new(State {
                next_request: now,
                tokens: f64::from(tpm.unwrap_or(0)),
                refilled: now,
            }),
        }
    }

    /// Wait until a request of about `estimate` tokens may start.
    pub(crate) async fn acquire(&self, estimate: u64) {
        if self.rpm.is_none() && self.tpm.is_none() {
            return;
        }
        loop {
            let wait = {
                let mut s = self.state.lock().await;
                let now = Instant::now();
                let mut wait = Duration::ZERO;
                if self.rpm.is_some() && s.next_request > now {
                    wait = s.next_request - now;
                }
                if let Some(tpm) = self.tpm {
                    let cap = f64::from(tpm);
                    let per_sec = cap / 60.0;
                    s.tokens = (s.tokens + now.duration_since(s.refilled).as_secs_f64() * per_sec)
                        .min(cap);
                    s.refilled = now;
                    let need = (estimate as f64).min(cap);
                    if s.tokens < need {
                        wait = wait.max(Duration::from_secs_f64((need - s.tokens) / per_sec));
                    }
                }
                if wait.is_zero() {
                    if let Some(rpm) = self.rpm {
                        s.next_request = now + Duration::from_secs_f64(60.0 / f64::from(rpm));
                    }
                    if self.tpm.is_some() {
                        s.tokens -= estimate as f64;
                    }
                }
                wait
            };
            if wait.is_zero() {
                return;
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Correct the bucket once the real token count is known.
    pub(crate) async fn settle(&self, estimate: u64, actual: u64) {
        if self.tpm.is_some() {
            let mut s = self.state.lock().await;
            s.tokens += estimate as f64 - actual as f64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn rpm_spaces_requests() {
        let l = Limiter::new(Some(120), None);
        let start = tokio::time::Instant::now();
        for _ in 0..3 {
            l.acquire(1).await;
        }
        // 120 rpm = one every 0.5 s: the third starts after about 1 s.
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(990), "{took:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn tpm_waits_for_the_bucket() {
        let l = Limiter::new(None, Some(600));
        let start = tokio::time::Instant::now();
        l.acquire(600).await;
        l.acquire(100).await; // 600 tpm = 10 tokens/s: 100 tokens take 10 s
        let took = start.elapsed();
        assert!(took >= Duration::from_secs(9), "{took:?}");
    }
}
