//! Xvfb, background processes that die with the test, real drag-and-drop and screenshots.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A child process killed when dropped.
pub struct Background(Child);

impl Background {
    pub fn spawn(command: &mut Command, what: &'static str) -> Self {
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what} ({e}); scripts/test.sh installs it"));
        Self(child)
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A virtual X display of 1600x900.
pub struct Xvfb {
    name: String,
    _server: Background,
}

impl Xvfb {
    pub fn start() -> Self {
        let number = 90 + std::process::id() % 100;
        let name = format!(":{number}");
        let server = Background::spawn(
            Command::new("Xvfb").args([
                name.as_str(),
                "-screen",
                "0",
                "1600x900x24",
                "-nolisten",
                "tcp",
            ]),
            "Xvfb",
        );
        for _ in 0..50 {
            let up = Command::new("xdpyinfo")
                .env("DISPLAY", &name)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if up {
                return Self {
                    name,
                    _server: server,
                };
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("Xvfb did not start on {name}");
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn xdotool(&self, args: &[&str]) {
        let status = Command::new("xdotool")
            .args(args)
            .env("DISPLAY", &self.name)
            .status();
        assert!(status.is_ok_and(|s| s.success()), "xdotool {args:?} failed");
    }

    /// Drags `file` from a GTK drag source shown at `from` and drops it at `to` (screen points).
    pub fn drag_file(&self, file: &Path, from: (i32, i32), to: (i32, i32)) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/drag_source.py");
        // Debian's Python has the GTK bindings (python3-gi); a python3 earlier on PATH may not.
        let python = if Path::new("/usr/bin/python3").exists() {
            "/usr/bin/python3"
        } else {
            "python3"
        };
        let mut source = Command::new(python);
        source
            .arg(script)
            .arg(file)
            .arg(from.0.to_string())
            .arg(from.1.to_string())
            .env("DISPLAY", &self.name)
            .stdout(Stdio::piped());
        let mut source = Background::spawn(&mut source, "the GTK drag source (python3-gi)");
        let mut ready = String::new();
        BufReader::new(source.0.stdout.take().unwrap())
            .read_line(&mut ready)
            .unwrap();
        assert_eq!(ready.trim(), "ready");
        std::thread::sleep(Duration::from_millis(500));
        let (x, y) = (from.0 + 100, from.1 + 60);
        let pos = |x: i32, y: i32| [x.to_string(), y.to_string()];
        let [sx, sy] = pos(x, y);
        self.xdotool(&["mousemove", &sx, &sy]);
        self.xdotool(&["mousedown", "1"]);
        // GTK starts a drag after the pointer moves a few pixels with the button held.
        for step in 1..=10 {
            let px = x + (to.0 - x) * step / 10;
            let py = y + (to.1 - y) * step / 10;
            let [a, b] = pos(px, py);
            self.xdotool(&["mousemove", &a, &b]);
            std::thread::sleep(Duration::from_millis(60));
        }
        std::thread::sleep(Duration::from_millis(300));
        self.xdotool(&["mouseup", "1"]);
        std::thread::sleep(Duration::from_millis(500));
    }

    /// Answers the native save dialog (rfd's GTK file chooser, titled "Save") with `path`, as a
    /// user typing a full path into its name field and pressing Enter; false when no dialog
    /// showed up within `timeout`.
    pub fn answer_save_dialog(&self, path: &Path, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        let window = loop {
            let found = Command::new("xdotool")
                .args(["search", "--onlyvisible", "--name", "^Save$"])
                .env("DISPLAY", &self.name)
                .output()
                .ok()
                .and_then(|o| String::from_utf8(o.stdout).ok())
                .and_then(|s| s.lines().next().map(str::to_owned));
            if let Some(id) = found {
                break id;
            }
            if std::time::Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(250));
        };
        // No window manager under Xvfb: give the dialog the keyboard focus ourselves.
        std::thread::sleep(Duration::from_millis(800));
        self.xdotool(&["windowfocus", "--sync", &window]);
        self.xdotool(&["key", "--clearmodifiers", "ctrl+a"]);
        let text = path.to_str().expect("a UTF-8 path");
        self.xdotool(&["type", "--delay", "15", text]);
        std::thread::sleep(Duration::from_millis(300));
        self.xdotool(&["key", "Return"]);
        true
    }

    /// Saves the screen region `geometry` (WxH+X+Y) as a PNG.
    pub fn screenshot(&self, path: &Path, geometry: &str) {
        let status = Command::new("import")
            .args(["-window", "root", "-crop", geometry])
            .arg(path)
            .env("DISPLAY", &self.name)
            .status();
        assert!(status.is_ok_and(|s| s.success()), "screenshot failed");
    }
}
