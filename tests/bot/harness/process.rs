//! `reactif run` as a child process, for the tests that kill it or send it SIGTERM, and for the
//! tests that run several of them (shard ranges) on one database.

use super::waits::eventually;
use fake_discord::FakeDiscord;
use std::time::Duration;

/// `reactif run` as a separate process, so that a test can kill it without warning.
pub struct BotProcess {
    pub child: std::process::Child,
    /// Where its stderr goes (appended: a restart with the same path continues it).
    pub log: std::path::PathBuf,
}

impl BotProcess {
    pub fn start(fake: &FakeDiscord, db_url: &str, log: &std::path::Path) -> BotProcess {
        Self::start_with(fake, db_url, log, &[])
    }

    /// `reactif run --shards FIRST-LAST --shard-count COUNT`, its stderr in `log`.
    pub fn start_shards(
        fake: &FakeDiscord,
        db_url: &str,
        log: &std::path::Path,
        shards: std::ops::RangeInclusive<u64>,
        count: u64,
    ) -> BotProcess {
        let range = format!("{}-{}", shards.start(), shards.end());
        let count = count.to_string();
        let args = ["--shards", range.as_str(), "--shard-count", count.as_str()];
        Self::start_with(fake, db_url, log, &args)
    }

    /// `reactif run ARGS...` against `fake` on `db_url`.
    pub fn start_with(
        fake: &FakeDiscord,
        db_url: &str,
        log: &std::path::Path,
        args: &[&str],
    ) -> BotProcess {
        Self::start_with_env(fake, db_url, log, args, &[])
    }

    /// `start_with`, with more environment variables (the dashboard's addresses, say).
    pub fn start_with_env(
        fake: &FakeDiscord,
        db_url: &str,
        log: &std::path::Path,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> BotProcess {
        let file = std::fs::File::options()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_reactif"))
            .arg("run")
            .args(args)
            .env("DISCORD_TOKEN", "fake-token-0123456789abcdefghij")
            .env("DISCORD_API_URL", fake.base_url())
            .env("DATABASE_URL", db_url)
            .env("RUST_LOG", "warn,reactif=info")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(file)
            .spawn()
            .expect("reactif run starts");
        BotProcess {
            child,
            log: log.to_path_buf(),
        }
    }

    /// What it wrote to its log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM (what service managers send), then waits for the process to exit; returns its
    /// exit status.
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        // A child process tells nobody when it exits: ask again every few milliseconds.
        eventually(
            "the bot to exit after SIGTERM",
            Duration::from_secs(30),
            || {
                let exited = self.child.try_wait().unwrap();
                async move { exited }
            },
        )
        .await
    }

    /// SIGTERM, and asserts the process exits 0 (its log is shown otherwise).
    pub async fn stop(mut self, log: &std::path::Path) {
        let status = self.terminate().await;
        assert!(
            status.success(),
            "exit status {status}; log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
    }

    /// Waits for the process to exit by itself (it refused to start, say); returns its status.
    pub async fn exited(&mut self) -> std::process::ExitStatus {
        eventually("the bot to exit", Duration::from_secs(30), || {
            let exited = self.child.try_wait().unwrap();
            async move { exited }
        })
        .await
    }
}

impl Drop for BotProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
