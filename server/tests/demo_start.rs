//! `serve --demo` is the one command a newcomer runs. Two started at the same moment
//! (two checkouts, a script run twice) must both come up: the demo's metrics port is
//! bound once, by the probe, so the loser of the race runs without metrics instead of
//! dying on the port after its probe said it was free.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The status line of `GET path` on the port, if anything answers.
fn status(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost:{port}\r\n\r\n").ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer.lines().next().map(str::to_string)
}

struct Demo {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start_demo(n: usize) -> Demo {
    let dir = std::env::temp_dir().join(format!("mooring-demo-start-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_mooring"));
    for (name, _) in std::env::vars().filter(|(k, _)| k.starts_with("MOORING_")) {
        command.env_remove(name);
    }
    let log = std::fs::File::create(dir.join("demo.log")).unwrap();
    let child = command
        .args(["serve", "--demo"])
        .current_dir(&dir)
        .env("MOORING_BIND", format!("127.0.0.1:{port}"))
        .env("MOORING_DEMO_HORIZON_URL", "http://127.0.0.1:9")
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    Demo { child, dir, port }
}

#[test]
fn two_demos_started_together_both_come_up() {
    let mut demos = [start_demo(1), start_demo(2)];
    let deadline = Instant::now() + Duration::from_secs(60);
    for demo in &mut demos {
        loop {
            if let Some(exit) = demo.child.try_wait().unwrap() {
                let log = std::fs::read_to_string(demo.dir.join("demo.log")).unwrap_or_default();
                panic!("a demo exited ({exit}):\n{log}");
            }
            if status(demo.port, "/health").is_some_and(|s| s.contains(" 200 ")) {
                break;
            }
            assert!(Instant::now() < deadline, "a demo never answered");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let logs: Vec<String> =
        demos.iter().map(|d| std::fs::read_to_string(d.dir.join("demo.log")).unwrap_or_default()).collect();
    let with_metrics = logs.iter().filter(|l| l.contains("metrics at /metrics")).count();
    assert!(with_metrics <= 1, "only one can have 127.0.0.1:9100");
    let without = logs.iter().filter(|l| l.contains("metrics are off")).count();
    assert_eq!(with_metrics + without, 2, "each demo either serves metrics or says it does not:\n{logs:?}");
}
