//! A tiny HTTP/1.1 server on loopback that serves fake Hub repositories from a folder, with
//! faults to inject (a dropped connection, a stall, a corrupted file, an ignored Range) and a
//! record of every request. std only, one thread, one request per connection.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use sha1::Sha1;
use sha2::{Digest, Sha256};

/// A folder removed on drop, unique per process and call.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("iris-hub-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// One repository: its files live in `dir` (subfolders allowed); `.safetensors` and `.bin`
/// files are listed as Git LFS files, as the Hub's default `.gitattributes` makes them.
pub(crate) struct FakeRepo {
    pub id: String,
    pub commit: String,
    dir: PathBuf,
}

impl FakeRepo {
    pub(crate) fn create(root: &Path, id: &str, commit: &str, files: &[(&str, Vec<u8>)]) -> Self {
        let dir = root.join(id);
        for (name, bytes) in files {
            let path = dir.join(name);
            fs::create_dir_all(path.parent().expect("file has a parent")).expect("mkdir");
            fs::write(&path, bytes).expect("write fake file");
        }
        FakeRepo {
            id: id.to_owned(),
            commit: commit.to_owned(),
            dir,
        }
    }

    /// Every file as (repo path, bytes), sorted.
    pub(crate) fn files(&self) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        collect(&self.dir, "", &mut out);
        out
    }

    fn listing_json(&self) -> String {
        let siblings: Vec<_> = self
            .files()
            .iter()
            .map(|(name, bytes)| sibling_json(name, bytes))
            .collect();
        serde_json::json!({
            "_id": "0123456789abcdef01234567", "id": self.id, "modelId": self.id,
            "author": self.id.split('/').next(), "sha": self.commit, "private": false,
            "gated": false, "disabled": false, "lastModified": "2025-01-01T00:00:00.000Z",
            "tags": ["safetensors"], "siblings": siblings,
        })
        .to_string()
    }
}

fn collect(dir: &Path, prefix: &str, out: &mut BTreeMap<String, Vec<u8>>) {
    for entry in fs::read_dir(dir).expect("read repo dir").flatten() {
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.path().is_dir() {
            collect(&entry.path(), &format!("{name}/"), out);
        } else {
            out.insert(name, fs::read(entry.path()).expect("read fake file"));
        }
    }
}

fn is_lfs(name: &str) -> bool {
    name.ends_with(".safetensors") || name.ends_with(".bin")
}

fn git_sha1(bytes: &[u8]) -> String {
    let mut h = Sha1::new();
    h.update(format!("blob {}\0", bytes.len()).as_bytes());
    h.update(bytes);
    hex(&h.finalize())
}

fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sibling_json(name: &str, bytes: &[u8]) -> serde_json::Value {
    if !is_lfs(name) {
        return serde_json::json!({"rfilename": name, "size": bytes.len(), "blobId": git_sha1(bytes)});
    }
    let oid = sha256(bytes);
    let pointer = format!(
        "version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {}\n",
        bytes.len()
    );
    serde_json::json!({
        "rfilename": name, "size": bytes.len(), "blobId": git_sha1(pointer.as_bytes()),
        "lfs": {"size": bytes.len(), "sha256": oid, "pointerSize": pointer.len()},
    })
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub(crate) struct RecordedRequest {
    /// Request target, query included.
    pub target: String,
    pub range: Option<String>,
    pub authorization: Option<String>,
    pub user_agent: Option<String>,
}

/// Faults, each applied to the next response for the named file (then cleared).
#[derive(Default)]
struct Faults {
    drop_after: Option<(String, usize)>,
    stall_after: Option<(String, usize, Duration)>,
    corrupt: Option<String>,
    ignore_range: bool,
}

struct State {
    repos: Vec<FakeRepo>,
    faults: Faults,
    requests: Vec<RecordedRequest>,
}

pub(crate) struct TestServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    pub(crate) fn start(repos: Vec<FakeRepo>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State {
            repos,
            faults: Faults::default(),
            requests: Vec::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_state, thread_stop) = (Arc::clone(&state), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if thread_stop.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    handle(stream, &thread_state, addr);
                }
            }
        });
        TestServer {
            addr,
            state,
            stop,
            thread: Some(thread),
        }
    }

    pub(crate) fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("server state")
    }

    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    pub(crate) fn clear_requests(&self) {
        self.lock().requests.clear();
    }

    /// Sends the headers and `bytes` body bytes of `file`, then closes the connection (once).
    pub(crate) fn drop_after(&self, file: &str, bytes: usize) {
        self.lock().faults.drop_after = Some((file.to_owned(), bytes));
    }

    /// Sends `bytes` body bytes of `file`, waits `pause`, then sends the rest (once).
    pub(crate) fn stall_after(&self, file: &str, bytes: usize, pause: Duration) {
        self.lock().faults.stall_after = Some((file.to_owned(), bytes, pause));
    }

    /// Serves `file` with one byte flipped (once).
    pub(crate) fn corrupt(&self, file: &str) {
        self.lock().faults.corrupt = Some(file.to_owned());
    }

    /// Answers Range requests with the whole file and 200, as some servers do.
    pub(crate) fn ignore_range(&self, ignore: bool) {
        self.lock().faults.ignore_range = ignore;
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn handle(mut stream: TcpStream, state: &Mutex<State>, addr: SocketAddr) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let Some(request) = read_request(&stream) else {
        return;
    };
    let mut state = state.lock().expect("server state");
    state.requests.push(request.clone());
    let route = route(&state, &request.target, addr);
    let response = match route {
        Route::Json(body) => Response::full("200 OK", "application/json", body.into_bytes()),
        Route::NotFound => Response::full(
            "404 Not Found",
            "application/json",
            br#"{"error":"Repository not found"}"#.to_vec(),
        ),
        Route::Redirect(location) => Response::redirect(&location),
        Route::File(name, bytes) => file_response(&mut state.faults, &name, bytes, &request),
    };
    drop(state);
    let _ = response.write(&mut stream);
}

fn read_request(stream: &TcpStream) -> Option<RecordedRequest> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let target = line.split_whitespace().nth(1)?.to_owned();
    let mut request = RecordedRequest {
        target,
        range: None,
        authorization: None,
        user_agent: None,
    };
    loop {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 || line.trim().is_empty() {
            return Some(request);
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = Some(value.trim().to_owned());
        match name.trim().to_ascii_lowercase().as_str() {
            "range" => request.range = value,
            "authorization" => request.authorization = value,
            "user-agent" => request.user_agent = value,
            _ => {}
        }
    }
}

enum Route {
    Json(String),
    NotFound,
    Redirect(String),
    File(String, Vec<u8>),
}

fn route(state: &State, target: &str, addr: SocketAddr) -> Route {
    let path = target.split('?').next().unwrap_or("");
    if let Some(rest) = path.strip_prefix("/api/models/") {
        let repo_id = rest.split("/revision/").next().unwrap_or("");
        return match state.repos.iter().find(|r| r.id == repo_id) {
            Some(repo) => Route::Json(repo.listing_json()),
            None => Route::NotFound,
        };
    }
    if let Some(oid) = path.strip_prefix("/cdn/") {
        let found = state
            .repos
            .iter()
            .flat_map(|r| r.files())
            .find(|(_, b)| sha256(b) == oid);
        return found.map_or(Route::NotFound, |(name, bytes)| Route::File(name, bytes));
    }
    for repo in &state.repos {
        let prefix = format!("/{}/resolve/{}/", repo.id, repo.commit);
        if let Some(name) = path.strip_prefix(&prefix) {
            return match repo.files().remove(name) {
                Some(bytes) if is_lfs(name) => {
                    Route::Redirect(format!("http://{addr}/cdn/{}", sha256(&bytes)))
                }
                Some(bytes) => Route::File(name.to_owned(), bytes),
                None => Route::NotFound,
            };
        }
    }
    Route::NotFound
}

fn file_response(
    faults: &mut Faults,
    name: &str,
    mut bytes: Vec<u8>,
    request: &RecordedRequest,
) -> Response {
    if faults.corrupt.as_deref() == Some(name) {
        faults.corrupt = None;
        let middle = bytes.len() / 2;
        if let Some(b) = bytes.get_mut(middle) {
            *b ^= 0xff;
        }
    }
    let len = bytes.len();
    let start = request
        .range
        .as_deref()
        .filter(|_| !faults.ignore_range)
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|r| r.parse::<usize>().ok());
    let mut response = match start {
        Some(start) if start >= len => {
            let mut r = Response::full("416 Range Not Satisfiable", "text/plain", Vec::new());
            r.headers.push(format!("Content-Range: bytes */{len}"));
            r
        }
        Some(start) => {
            let mut r = Response::full(
                "206 Partial Content",
                "application/octet-stream",
                bytes.split_off(start),
            );
            r.headers
                .push(format!("Content-Range: bytes {start}-{}/{len}", len - 1));
            r
        }
        None => Response::full("200 OK", "application/octet-stream", bytes),
    };
    if faults.drop_after.as_ref().is_some_and(|(f, _)| f == name) {
        response.cut = faults.drop_after.take().map(|(_, n)| (n, None));
    } else if faults
        .stall_after
        .as_ref()
        .is_some_and(|(f, _, _)| f == name)
    {
        response.cut = faults
            .stall_after
            .take()
            .map(|(_, n, pause)| (n, Some(pause)));
    }
    response
}

struct Response {
    status: &'static str,
    headers: Vec<String>,
    body: Vec<u8>,
    /// After this many body bytes: stop (None) or pause, then send the rest (Some).
    cut: Option<(usize, Option<Duration>)>,
}

impl Response {
    fn full(status: &'static str, content_type: &str, body: Vec<u8>) -> Self {
        let headers = vec![format!("Content-Type: {content_type}")];
        Response {
            status,
            headers,
            body,
            cut: None,
        }
    }

    fn redirect(location: &str) -> Self {
        let mut r = Response::full("302 Found", "text/plain", Vec::new());
        r.headers.push(format!("Location: {location}"));
        r
    }

    fn write(&self, stream: &mut TcpStream) -> std::io::Result<()> {
        let mut head = format!("HTTP/1.1 {}\r\n", self.status);
        for header in &self.headers {
            head.push_str(&format!("{header}\r\n"));
        }
        head.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.body.len()
        ));
        stream.write_all(head.as_bytes())?;
        match self.cut {
            None => stream.write_all(&self.body)?,
            Some((n, pause)) => {
                let n = n.min(self.body.len());
                stream.write_all(&self.body[..n])?;
                stream.flush()?;
                let Some(pause) = pause else {
                    return Ok(());
                };
                std::thread::sleep(pause);
                stream.write_all(&self.body[n..])?;
            }
        }
        stream.flush()
    }
}
