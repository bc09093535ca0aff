//! DSNs whose drivers read them differently from the text's first impression (R-SEC-7), from
//! an outside attack on `palisade dsn check`: each names the driver reading it guards against.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use palisade_secrets::{Dsn, DsnError, TlsPolicy, TlsVerdict};

fn verdict(text: &str) -> Result<TlsVerdict, DsnError> {
    Dsn::parse(text)?.check_tls(TlsPolicy::Production)
}

fn is_remote_without_tls(text: &str) -> bool {
    matches!(verdict(text), Err(DsnError::TlsMissing { .. }))
}

#[test]
fn every_host_in_the_query_counts() {
    for text in [
        // SQLAlchemy joins repeated hosts into a list for psycopg: db.example.com is tried.
        "postgresql+psycopg://u:pw@/db?host=db.example.com&host=localhost",
        "postgres://u:pw@localhost/db?host=localhost&host=db.example.com",
        // SQLAlchemy's MySQL dialects take the query's host over the URL's.
        "mysql+pymysql://u:pw@localhost/db?host=db.example.com",
        "mysql+mysqldb://u:pw@localhost/db?host=db.example.com",
        // libpq's hostaddr is where it connects.
        "postgres://u:pw@localhost/db?hostaddr=10.0.0.5",
    ] {
        assert!(is_remote_without_tls(text), "{text}: {:?}", verdict(text));
    }
    assert_eq!(
        verdict("postgres://u:pw@localhost/db?host=/var/run/postgresql&host=127.0.0.1"),
        Ok(TlsVerdict::Local)
    );
}

#[test]
fn pyodbc_connects_with_odbc_connect_alone() {
    let text = "mssql+pyodbc://u:pw@localhost/db?odbc_connect=DRIVER%3D%7BODBC+Driver+18%7D%3BServer%3Ddb.example.com%3BEncrypt%3Dno";
    assert!(is_remote_without_tls(text), "{:?}", verdict(text));
    let secure =
        "mssql+pyodbc://@localhost/db?odbc_connect=Server%3Ddb.example.com%3BEncrypt%3Dstrict";
    assert_eq!(verdict(secure), Ok(TlsVerdict::Verified { by: "encrypt" }));
    // The whole inner string is a secret: it holds the password.
    let shown = Dsn::parse("mssql+pyodbc://@h/db?odbc_connect=Server%3Dh%3BPwd%3Dhunter2")
        .unwrap()
        .to_string();
    assert!(!shown.contains("hunter2"), "{shown}");
}

#[test]
fn ado_values_are_read_as_sqlclient_reads_them() {
    // SqlClient skips any white space before a quote (no-break spaces too): the quoted value
    // is the password.
    let text = "Server=db.example.com;Encrypt=true;Password=\u{a0}\u{2003}\"Tr0ub=horse\"";
    let shown = Dsn::parse(text).unwrap().to_string();
    // Control characters: the `url` crate drops tabs and line breaks, C drivers stop at NUL.
    for control in [
        "Server=db.example.com;Encrypt=true;Password=\t\"Tr0ub;horse=battery\"",
        "postgres://u:pw@db.example.com/app?sslmode=require&ssl\tmode=disable",
        "postgres://u:pw@local\nhost/app",
        "postgres://u:pw@localhost/app\0@db.example.com",
    ] {
        assert_eq!(
            Dsn::parse(control).err(),
            Some(DsnError::ControlCharacter),
            "{control:?}"
        );
    }
    assert!(
        !shown.contains("horse") && !shown.contains("Tr0ub"),
        "{shown}"
    );
    // Braces quote only for ODBC: a `;` inside them is refused.
    assert!(matches!(
        Dsn::parse(
            "Server=db.example.com;Encrypt=true;Password={x;TrustServerCertificate=true;Application Name=}"
        ),
        Err(DsnError::QuoteAmbiguous { position: 3 })
    ));
    // Quotes quote only for SqlClient: ODBC reads `Server=db.example.com` as a pair.
    assert!(matches!(
        Dsn::parse("Password=\"x;Server=db.example.com;y=\";Server=localhost;User ID=u"),
        Err(DsnError::QuoteAmbiguous { position: 1 })
    ));
    // Shared memory names this machine, or the driver fails: never a remote host.
    assert!(matches!(
        verdict("Server=lpc:db.example.com"),
        Err(DsnError::HostInvalid { position: 1 })
    ));
    assert_eq!(verdict("Server=lpc:.;Database=app"), Ok(TlsVerdict::Local));
}

#[test]
fn hosts_are_local_only_as_written() {
    for text in [
        // glibc sends these to DNS (search domains included): none is loopback.
        "postgres://u:pw@localhost%C2%A0/db",
        "postgres://u:pw@localhost%20/db",
        "postgres://u:pw@localhost%09/db",
        "postgres://u:pw@127.0.0.1%C2%A0/db",
        "postgres://u:pw@%2B127.0.0.1/db",
        "postgres://u:pw@0x%2B7f.1/db",
        // SQLAlchemy passes the host undecoded: `%2Ftmp` is a name, not a socket.
        "postgresql+psycopg://u:pw@%2Ftmp/db",
        "postgresql+psycopg://u:pw@%6cocalhost/db",
    ] {
        assert!(is_remote_without_tls(text), "{text}: {:?}", verdict(text));
    }
    // pymongo asks DNS for `_mongodb._tcp.localhost`: whatever it answers is reached.
    assert!(matches!(
        verdict("mongodb+srv://localhost/?tls=false"),
        Err(DsnError::TlsMissing { .. })
    ));
    assert_eq!(
        verdict("postgres://u:pw@%2Fvar%2Frun%2Fpostgresql/db"),
        Ok(TlsVerdict::Local)
    );
}

#[test]
fn sqlite_keys_and_servers() {
    // The SQLCipher key as SQLAlchemy's pysqlcipher takes it, and as hexkey=.
    for text in [
        "sqlite+pysqlcipher://:supersecretkey@/file.db",
        "sqlite+pysqlcipher://:supersecretkey@/file.db?hexkey=supersecretkey",
        "sqlite:///x.db?hexkey=supersecretkey",
        "sqlite:///x.db?authToken=supersecretkey",
    ] {
        let dsn = Dsn::parse(text).unwrap();
        assert!(!dsn.to_string().contains("supersecretkey"), "{dsn}");
        assert!(!format!("{dsn:?}").contains("supersecretkey"));
        assert_eq!(dsn.check_tls(TlsPolicy::Production), Ok(TlsVerdict::Local));
    }
    assert_eq!(
        Dsn::parse("sqlite+libsql://db.turso.io/?authToken=x").err(),
        Some(DsnError::SqliteHost)
    );
}

/// A second outside attack: spellings and repeats one driver reads and another does not.
#[test]
fn every_reading_of_repeats_and_spellings_is_judged() {
    for text in [
        // SQLAlchemy reads `odbc_connect` in that spelling only: the URL's host is used.
        "mssql+pyodbc://u:pw@db.example.com/db?ODBC_CONNECT=Server%3Dlocalhost",
        // A whole libpq string passed on by SQLAlchemy (psycopg `conninfo`, psycopg2 `dsn`).
        "postgresql+psycopg://u:pw@localhost/db?conninfo=hostaddr%3D203.0.113.5",
        "postgresql+psycopg2://u:pw@localhost/db?dsn=hostaddr%3D203.0.113.5",
        "postgresql+psycopg://u:pw@db.example.com/db?sslmode=require&conninfo=sslmode%3Ddisable",
        // ODBC keeps the first of a repeated keyword, SqlClient the last.
        "Server=db.example.com;Encrypt=no;Encrypt=yes;Password=pw",
        "mssql+pyodbc://u:pw@db.example.com/db?Encrypt=no&encrypt=yes",
        // A spelling ODBC does not know asks for nothing.
        "mssql+pyodbc://u:pw@db.example.com/db?En_crypt=yes",
        "Server=db.example.com;En crypt=yes",
        // pyodbc's `Address` wins over `Server`.
        "mssql+pyodbc://u:pw@localhost/db?Address=db.example.com",
        // An ODBC data source: odbc.ini names the server.
        "mssql+pyodbc://u:pw@localhost",
        "mssql+pyodbc://u:pw@localhost/db?dsn=prod",
    ] {
        assert!(is_remote_without_tls(text), "{text}: {:?}", verdict(text));
    }
    for text in [
        "Server=db.example.com;Encrypt=yes;TrustServerCertificate=yes;TrustServerCertificate=no",
        "mssql+pyodbc://u:pw@db.example.com/db?encrypt=yes&TrustServerCertificate=yes&Trust_ServerCertificate=no",
    ] {
        assert!(
            matches!(verdict(text), Err(DsnError::TlsUnverified { .. })),
            "{text}: {:?}",
            verdict(text)
        );
    }
    assert_eq!(
        verdict("Server=db.example.com;Encrypt=yes;encrypt=strict"),
        Ok(TlsVerdict::Verified { by: "encrypt" })
    );
    // Passwords under the names drivers take them by.
    for text in [
        "mysql+pymysql://u@localhost/db?passwd=hunter2",
        "postgresql+psycopg://u@localhost/db?conninfo=password%3Dhunter2",
        "postgresql+psycopg2://u@localhost/db?dsn=password%3Dhunter2",
        "Server=localhost;KeyStoreSecret=hunter2",
    ] {
        let shown = Dsn::parse(text).unwrap().to_string();
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
