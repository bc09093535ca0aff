//! Background processes this project started, tracked by PID files: spawning, liveness,
//! readiness and stopping. Nothing here finds or kills a process by name.

use std::fs::{self, File};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// How long a service may take to accept connections after it starts.
const READY_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a service may take to exit after SIGTERM before it gets SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// Polling interval while waiting for a service (tooling, not a test: real time is right here).
const POLL: Duration = Duration::from_millis(200);
/// Lines of a service's log shown when it fails.
const LOG_TAIL_LINES: usize = 30;

/// The files of one service under `target/services/NAME/`.
#[derive(Debug, Clone)]
pub(crate) struct ServiceDir {
    pub(crate) dir: PathBuf,
    /// A substring of the service's command line, checked before a PID is trusted (PIDs are
    /// reused; this never selects a process, it only refuses a PID that is no longer ours).
    pub(crate) program: &'static str,
}

impl ServiceDir {
    pub(crate) fn pid_file(&self) -> PathBuf {
        self.dir.join("pid")
    }

    pub(crate) fn log_file(&self) -> PathBuf {
        self.dir.join("log")
    }

    /// The PID in the PID file, if the file exists and that process is still ours and alive.
    pub(crate) fn running_pid(&self) -> Option<u32> {
        let pid: u32 = fs::read_to_string(self.pid_file())
            .ok()?
            .trim()
            .parse()
            .ok()?;
        is_ours(pid, self.program).then_some(pid)
    }

    pub(crate) fn record_pid(&self, pid: u32) -> Result<()> {
        fs::write(self.pid_file(), format!("{pid}\n"))
            .with_context(|| format!("cannot write {}", self.pid_file().display()))
    }

    pub(crate) fn forget_pid(&self) {
        let _ = fs::remove_file(self.pid_file());
    }

    /// Starts `command` in its own process group with stdin closed and stdout/stderr appended
    /// to the service log, records its PID and returns it. The process outlives xtask.
    pub(crate) fn spawn(&self, mut command: Command) -> Result<u32> {
        use std::os::unix::process::CommandExt;
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.log_file())?;
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start {:?}", command.get_program()))?;
        let pid = child.id();
        self.record_pid(pid)?;
        Ok(pid)
    }

    /// Waits until `port` on loopback accepts connections, failing early (with the log's last
    /// lines) if the process dies first.
    pub(crate) fn wait_ready(&self, name: &str, port: u16) -> Result<()> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if TcpStream::connect_timeout(&addr, POLL).is_ok() {
                return Ok(());
            }
            if !self.recorded_pid_alive() {
                bail!(
                    "{name} exited before accepting connections on {addr}\n{}",
                    self.log_tail()
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "{name} did not accept connections on {addr} within {READY_TIMEOUT:?}\n{}",
                    self.log_tail()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits until the service log holds `marker` (a line a server prints once it is ready
    /// for use, not just listening), failing early if the process dies first.
    pub(crate) fn wait_for_log_line(&self, name: &str, marker: &str) -> Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if fs::read_to_string(self.log_file()).is_ok_and(|log| log.contains(marker)) {
                return Ok(());
            }
            if !self.recorded_pid_alive() {
                bail!("{name} exited before it was ready\n{}", self.log_tail());
            }
            if Instant::now() > deadline {
                bail!(
                    "{name} was not ready within {READY_TIMEOUT:?}\n{}",
                    self.log_tail()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Whether the process in the PID file is alive and not a zombie. Right after a spawn its
    /// command line may not be readable yet (the kernel wakes the parent of a vfork before
    /// the new image's arguments are in place), so this does not look at it.
    fn recorded_pid_alive(&self) -> bool {
        let pid = fs::read_to_string(self.pid_file())
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok());
        pid.is_some_and(|pid| process_state(pid).is_some_and(|state| state != 'Z'))
    }

    /// Sends SIGTERM to the recorded process, waits for it to exit, then SIGKILL if it must.
    pub(crate) fn stop(&self) -> Result<bool> {
        let Some(pid) = self.running_pid() else {
            self.forget_pid();
            return Ok(false);
        };
        signal("TERM", pid)?;
        let deadline = Instant::now() + STOP_TIMEOUT;
        while is_ours(pid, self.program) {
            if Instant::now() > deadline {
                signal("KILL", pid)?;
                break;
            }
            std::thread::sleep(POLL);
        }
        self.forget_pid();
        Ok(true)
    }

    /// The last lines of the service log, indented, for error messages.
    pub(crate) fn log_tail(&self) -> String {
        log_tail(&self.log_file())
    }
}

pub(crate) fn log_tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(LOG_TAIL_LINES);
    let tail = lines.get(from..).unwrap_or_default();
    format!(
        "last lines of {}:\n    {}",
        path.display(),
        tail.join("\n    ")
    )
}

/// Whether `pid` is alive, not a zombie, and runs a command line containing `program`.
pub(crate) fn is_ours(pid: u32, program: &str) -> bool {
    let alive = process_state(pid).is_some_and(|state| state != 'Z');
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    alive && String::from_utf8_lossy(&cmdline).contains(program)
}

/// The state letter of `pid` from `/proc/PID/stat` (`R`, `S`, `Z`, ...), if it exists.
fn process_state(pid: u32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

fn signal(name: &str, pid: u32) -> Result<()> {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()?;
    if !status.success() && PathBuf::from(format!("/proc/{pid}")).exists() {
        bail!("kill -{name} {pid} failed");
    }
    Ok(())
}

/// Whether something already listens on loopback `port`.
pub(crate) fn port_in_use(port: u16) -> bool {
    TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], port)), POLL).is_ok()
}
