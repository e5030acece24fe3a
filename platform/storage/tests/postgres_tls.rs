//! PostgreSQL over TLS: a server whose certificate comes from a private CA is reached with
//! `sslmode=verify-full&sslrootcert=<the CA's file>`, and refused when the CA is not trusted. The
//! server is a real `postgres` of its own (initdb in a temporary directory) that accepts only TLS
//! connections (`hostssl` in its pg_hba.conf), with a certificate from a CA made for the test.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use storage::db::{Database, DbError};
use storage::migrations::Migrations;
use web::test_ca::TestCa;

/// Where Debian keeps the server's programs (`/usr/lib/postgresql/<version>/bin`), newest first.
fn server_bin_dir() -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL's server is installed where the tests run")
        .filter_map(|entry| Some(entry.ok()?.path().join("bin")))
        .filter(|bin| bin.join("postgres").is_file())
        .collect();
    dirs.sort();
    dirs.pop().expect("a PostgreSQL server version")
}

/// Runs `program` as the `postgres` user when the tests run as root (the server refuses root).
fn as_server_user(program: &Path) -> Command {
    // /proc/self belongs to the process's effective user.
    let root = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata("/proc/self").unwrap()) == 0;
    if root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// A TLS-only PostgreSQL on a free port, stopped (and its directory removed) when dropped.
struct TlsPostgres {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl TlsPostgres {
    fn start(ca: &TestCa) -> Self {
        let bin = server_bin_dir();
        let dir = std::env::temp_dir().join(primitives::id::new_id("pgtls"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let data = dir.join("data");
        let initdb = as_server_user(&bin.join("initdb"))
            .args(["--auth=trust", "--username=postgres", "--no-sync", "-D"])
            .arg(&data)
            .output()
            .expect("initdb runs");
        assert!(
            initdb.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&initdb.stderr)
        );
        // The server reads its certificate and key from its data directory; the key must be
        // private to the server's user, which owns every file initdb made there.
        for (name, pem) in [
            ("server.crt", &ca.certificate_pem),
            ("server.key", &ca.key_pem),
        ] {
            let path = data.join(name);
            std::fs::write(&path, pem).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            let owner = std::fs::metadata(data.join("PG_VERSION")).unwrap();
            std::os::unix::fs::chown(
                &path,
                Some(std::os::unix::fs::MetadataExt::uid(&owner)),
                Some(std::os::unix::fs::MetadataExt::gid(&owner)),
            )
            .unwrap();
        }
        std::fs::write(
            data.join("pg_hba.conf"),
            "hostssl all all 127.0.0.1/32 trust\nhostssl all all ::1/128 trust\n",
        )
        .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = as_server_user(&bin.join("postgres"))
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-k"])
            .arg(&dir)
            .args(["-c", "listen_addresses=localhost", "-c", "ssl=on"])
            .args(["-c", "fsync=off"])
            .stderr(Stdio::piped())
            .spawn()
            .expect("postgres runs");
        // Stopped by `Drop` from here on, also when it never gets ready.
        let mut server = Self { child, dir, port };
        let output = BufReader::new(server.child.stderr.take().unwrap());
        let mut said = Vec::new();
        for line in output.lines().map_while(Result::ok) {
            if line.contains("ready to accept connections") {
                return server;
            }
            said.push(line);
        }
        panic!("postgres stopped before it was ready:\n{}", said.join("\n"));
    }

    fn url(&self, query: &str) -> String {
        format!(
            "postgres://postgres@localhost:{}/postgres?{query}",
            self.port
        )
    }
}

impl Drop for TlsPostgres {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn postgres_over_tls_is_reached_with_the_private_ca_and_refused_without_it() {
    let ca = TestCa::new();
    let server = TlsPostgres::start(&ca);
    let ca_file = TestCa::write("ca.crt", &ca.ca_pem);

    let trusted = server.url(&format!(
        "sslmode=verify-full&sslrootcert={}",
        ca_file.display()
    ));
    let database = Database::connect(&trusted, 2, &Migrations::NONE)
        .await
        .expect("the server's certificate verifies with the CA's file");
    let (ssl,): (bool,) =
        sqlx::query_as("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(database.pool())
            .await
            .unwrap();
    assert!(ssl, "the connection is encrypted");

    // Only the web's roots: the private CA is not among them.
    let untrusted =
        match Database::connect(&server.url("sslmode=verify-full"), 2, &Migrations::NONE).await {
            Ok(_) => panic!("a certificate from an unknown CA is refused"),
            Err(error) => error,
        };
    assert!(matches!(untrusted, DbError::Connect { .. }), "{untrusted}");
    let reason = primitives::error::with_causes(&untrusted);
    assert!(reason.to_lowercase().contains("certificate"), "{reason}");

    // Without TLS the server lets nobody in (hostssl only): the test above did use TLS.
    let plain = Database::connect(&server.url("sslmode=disable"), 2, &Migrations::NONE).await;
    assert!(plain.is_err(), "a plain connection is refused");
    std::fs::remove_file(ca_file).ok();
}
