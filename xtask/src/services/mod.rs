//! `cargo xtask services up|down|status`: the real services tests run against, as plain
//! background processes on loopback ports of our own, with data under `target/services/`.

mod mariadb;
mod node;
mod openbao;
mod packages;
mod postgres;
mod process;
pub mod python;
mod tls;

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::project::Project;
use process::ServiceDir;

/// The test services: the one list, shared with `palisade-test`, which reads the file `up` writes.
pub use palisade_test::Service;

/// What xtask knows about each service beyond its name: where it listens and how it runs.
trait Run {
    fn port(self) -> u16;
    fn loopback_url(self) -> String;
    fn dir(self, project: &Project) -> ServiceDir;
    fn start(self, project: &Project, dir: &ServiceDir) -> Result<()>;
    fn provision(self, dir: &ServiceDir) -> Result<()>;
    fn stop(self, dir: &ServiceDir) -> Result<bool>;
}

impl Run for Service {
    /// The loopback port, chosen away from each server's default so a system instance never
    /// answers in its place.
    fn port(self) -> u16 {
        match self {
            Self::Postgres => 55432,
            Self::Mariadb => 53306,
            Self::Redis => 56379,
            Self::Mongodb => 57017,
            Self::MongodbTls => 57018,
            Self::Aws => 55050,
            Self::Vault => 58200,
        }
    }

    /// The URL tests connect to.
    fn loopback_url(self) -> String {
        let port = self.port();
        match self {
            Self::Postgres => format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            Self::Mariadb => format!(
                "mysql://{user}:{user}@127.0.0.1:{port}/{user}",
                user = mariadb::TEST_USER
            ),
            Self::Redis => format!("redis://127.0.0.1:{port}/"),
            Self::Mongodb => format!("mongodb://127.0.0.1:{port}/?directConnection=true"),
            // The certificate names `localhost`; the CA is the entry's `tls_ca`.
            Self::MongodbTls => {
                format!("mongodb://localhost:{port}/?directConnection=true&tls=true")
            }
            Self::Aws | Self::Vault => format!("http://127.0.0.1:{port}"),
        }
    }

    fn dir(self, project: &Project) -> ServiceDir {
        let program = match self {
            Self::Postgres => "postgres",
            Self::Mariadb => "mariadbd",
            Self::Redis => "redis-server",
            Self::Mongodb | Self::MongodbTls => "secantusd",
            Self::Aws => "moto_server",
            Self::Vault => openbao::PROGRAM,
        };
        ServiceDir {
            dir: services_dir(project).join(self.name()),
            program,
        }
    }

    fn start(self, project: &Project, dir: &ServiceDir) -> Result<()> {
        let port = self.port().to_string();
        let venv = python::Venv::services(project);
        match self {
            Self::Postgres => {
                let tls = tls::ensure(&services_dir(project))?;
                return postgres::start(dir, self.port(), &tls);
            }
            Self::Mariadb => {
                let tls = tls::ensure(&services_dir(project))?;
                return mariadb::start(dir, self.port(), &tls);
            }
            Self::Redis => {
                let mut cmd = Command::new("redis-server");
                cmd.args([
                    "--port",
                    &port,
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    // Rate-limit counters and token revocations survive a restart, as a
                    // deployment's Redis must keep them (crud-api's fault run restarts it).
                    "--appendonly",
                    "yes",
                    "--appendfsync",
                    "everysec",
                ])
                .args(["--daemonize", "no", "--logfile", ""])
                .arg("--dir")
                .arg(&dir.dir);
                dir.spawn(cmd)?;
            }
            Self::Mongodb | Self::MongodbTls => {
                let data = dir.dir.join("data");
                let mut cmd = Command::new(venv.bin("secantusd-py"));
                cmd.args(["--host", "127.0.0.1", "--port", &port, "--storage-path"])
                    .arg(&data);
                if self == Self::MongodbTls {
                    let tls = tls::ensure(&services_dir(project))?;
                    cmd.arg("--tls-cert-file")
                        .arg(&tls.cert)
                        .arg("--tls-key-file")
                        .arg(&tls.key);
                }
                dir.spawn(cmd)?;
            }
            Self::Aws => {
                let mut cmd = Command::new(venv.bin("moto_server"));
                cmd.args(["-H", "127.0.0.1", "-p", &port]);
                dir.spawn(cmd)?;
            }
            Self::Vault => return openbao::start(&venv, dir, self.port()),
        }
        dir.wait_ready(self.name(), self.port())
    }

    /// What a running service needs before tests use it (users, databases), idempotent.
    fn provision(self, dir: &ServiceDir) -> Result<()> {
        match self {
            Self::Mariadb => mariadb::provision(dir).context("mariadb provisioning failed"),
            Self::Postgres => {
                postgres::provision(dir, self.port()).context("postgres provisioning failed")
            }
            _ => Ok(()),
        }
    }

    fn stop(self, dir: &ServiceDir) -> Result<bool> {
        match self {
            Self::Postgres => postgres::stop(dir),
            _ => dir.stop(),
        }
    }
}

fn services_dir(project: &Project) -> PathBuf {
    project.target().join("services")
}

/// The file `palisade-test` reads to find the services.
#[must_use]
pub fn services_file(project: &Project) -> PathBuf {
    services_dir(project).join("services.json")
}

/// Installs what is missing and starts every service that is not already running, then
/// writes the services file. Idempotent.
///
/// # Errors
/// When an install fails, a port is taken by a process that is not ours, or a service does
/// not come up (its log's last lines are in the error).
pub fn up(project: &Project) -> Result<()> {
    let sh = project.shell()?;
    packages::ensure(&sh)?;
    python::Venv::services(project).ensure(&sh)?;
    python::Venv::with_requirements(project, "password").ensure(&sh)?;
    python::Venv::with_requirements(project, "ratelimit").ensure(&sh)?;
    python::Venv::with_requirements(project, "redact").ensure(&sh)?;
    python::Venv::with_requirements(project, "sql").ensure(&sh)?;
    python::Venv::with_requirements(project, "dsn").ensure(&sh)?;
    python::Venv::with_requirements(project, "auth").ensure(&sh)?;
    python::Venv::with_requirements(project, "crypt").ensure(&sh)?;
    node::ensure(project, &sh)?;
    for service in Service::ALL {
        let dir = service.dir(project);
        fs::create_dir_all(&dir.dir)?;
        if let Some(pid) = dir.running_pid() {
            eprintln!("services: {} already running (pid {pid})", service.name());
            service.provision(&dir)?;
            continue;
        }
        dir.forget_pid();
        if process::port_in_use(service.port()) {
            bail!(
                "{}: port {} is in use by a process this project did not start; stop it and run `cargo xtask services up` again",
                service.name(),
                service.port()
            );
        }
        service
            .start(project, &dir)
            .with_context(|| format!("{} failed to start", service.name()))?;
        service.provision(&dir)?;
        let pid = dir
            .running_pid()
            .map_or_else(|| "?".to_owned(), |p| p.to_string());
        eprintln!(
            "services: {} up on 127.0.0.1:{} (pid {pid})",
            service.name(),
            service.port()
        );
    }
    write_services_file(project)
}

/// Stops exactly the processes this project started, by their PID files.
///
/// # Errors
/// When a recorded process cannot be stopped.
pub fn down(project: &Project) -> Result<()> {
    for service in Service::ALL.into_iter().rev() {
        let dir = service.dir(project);
        let stopped = service
            .stop(&dir)
            .with_context(|| format!("stopping {}", service.name()))?;
        eprintln!(
            "services: {} {}",
            service.name(),
            if stopped {
                "stopped"
            } else {
                "was not running"
            }
        );
    }
    let _ = fs::remove_file(services_file(project));
    Ok(())
}

/// Prints each service's state, PID and URL.
///
/// # Errors
/// When any service is not running.
pub fn status(project: &Project) -> Result<()> {
    println!("{:<9} {:<8} {:>8}  url", "service", "state", "pid");
    let mut down = Vec::new();
    for service in Service::ALL {
        let pid = service.dir(project).running_pid();
        let state = if pid.is_some() { "running" } else { "stopped" };
        let pid = pid.map_or_else(|| "-".to_owned(), |p| p.to_string());
        println!(
            "{:<9} {state:<8} {pid:>8}  {}",
            service.name(),
            service.loopback_url()
        );
        if state != "running" {
            down.push(service.name());
        }
    }
    if !down.is_empty() {
        bail!(
            "not running: {} (start them with `cargo xtask services up`)",
            down.join(", ")
        );
    }
    Ok(())
}

fn write_services_file(project: &Project) -> Result<()> {
    let mut services = serde_json::Map::new();
    for service in Service::ALL {
        let mut entry = serde_json::Map::new();
        entry.insert("url".into(), service.loopback_url().into());
        entry.insert("host".into(), "127.0.0.1".into());
        entry.insert("port".into(), service.port().into());
        if matches!(
            service,
            Service::Postgres | Service::Mariadb | Service::MongodbTls
        ) {
            let tls = tls::ensure(&services_dir(project))?;
            entry.insert("tls_ca".into(), tls.ca.display().to_string().into());
        }
        if service == Service::Vault {
            let token = openbao::root_token(&service.dir(project))?;
            let program = python::Venv::services(project).bin("bao");
            entry.insert("token".into(), token.into());
            entry.insert("program".into(), program.display().to_string().into());
        }
        services.insert(service.name().to_owned(), entry.into());
    }
    let json = serde_json::json!({ "version": 1, "services": services });
    let path = services_file(project);
    let tmp = path.with_extension("json.tmp");
    fs::write(&tmp, serde_json::to_string_pretty(&json)?)?;
    fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))
}
