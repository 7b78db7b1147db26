//! The report as a reader sees it: rendered by headless Chromium (Debian's `chromium`, which
//! `.ci/run` installs). Checks that the page loads with no request leaving it, that every plot
//! has a drawing, that a `<script>` in the user's file is text, and saves screenshots under
//! `target/tmp/browser/` for a person to look at.
//!
//! Every launch is headless with `--no-sandbox --disable-gpu --disable-background-networking
//! --disable-component-update --disable-sync --no-first-run` and a fresh `--user-data-dir`, all
//! traffic sent through a recording proxy. Chromium's own housekeeping (hosts it contacts on an
//! empty page, and a few known update/sign-in hosts) is printed and set aside; every other
//! request counts against the page, which must make none.
//!
//! Without Chromium the test skips, saying so, unless `SCALING_REQUIRE_CHROMIUM` is set (CI
//! sets it, so the check cannot silently vanish there).

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Hosts Chromium itself contacts at start-up (component updater, sign-in) whatever the page
/// holds, even with background networking off; they are not the page's requests. Listed by
/// exact name so that, say, `fonts.googleapis.com` still counts as a leak. Hosts Chromium
/// contacts on an empty page (see [`housekeeping_hosts`]) are added to these.
const BROWSER_OWN_HOSTS: [&str; 3] = [
    "update.googleapis.com",
    "accounts.google.com",
    "clients2.google.com",
];

/// The flags every launch uses: headless, no sandbox (CI runs as root), no GPU, and none of
/// Chromium's own background traffic (component updates, sync, first-run pages).
const CHROMIUM_FLAGS: [&str; 9] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-extensions",
    "--hide-scrollbars",
];

/// The host a proxied request line names: `CONNECT host:443 HTTP/1.1` or
/// `GET http://host/path HTTP/1.1`.
fn request_host(line: &str) -> String {
    let target = line.split_whitespace().nth(1).unwrap_or("");
    let rest = target.split("://").nth(1).unwrap_or(target);
    let host_port = rest.split('/').next().unwrap_or("");
    host_port
        .rsplit_once(':')
        .map_or(host_port, |(h, _)| h)
        .to_string()
}

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SCALING_CHROMIUM") {
        return Some(p.into());
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// A proxy that serves nothing and records the first line of every request sent to it.
struct Recorder {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    fn start() -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let mut line = String::new();
                let _ = BufReader::new(stream).read_line(&mut line);
                log.lock().unwrap().push(line.trim().to_string());
            }
        });
        Recorder { port, seen }
    }

    /// Every request line seen.
    fn all(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    /// Requests to hosts other than the browser's own (`own`: exact host names).
    fn page_requests(&self, own: &[String]) -> Vec<String> {
        self.all()
            .into_iter()
            .filter(|l| !own.contains(&request_host(l)))
            .collect()
    }
}

/// Chromium's own housekeeping: the fixed list, plus every host it contacts while showing an
/// empty page (`about:blank`) with the same flags. Printed, so a reader sees what was set aside.
fn housekeeping_hosts(exe: &Path, dir: &Path) -> Vec<String> {
    let rec = Recorder::start();
    run_chromium_url(exe, "about:blank", rec.port, dir, &["--dump-dom".into()]);
    std::thread::sleep(Duration::from_millis(300));
    let mut hosts: Vec<String> = BROWSER_OWN_HOSTS.iter().map(|h| h.to_string()).collect();
    for line in rec.all() {
        let h = request_host(&line);
        if !hosts.contains(&h) {
            eprintln!("chromium housekeeping on an empty page: {line}");
            hosts.push(h);
        }
    }
    hosts
}

/// Run Chromium headless on `page` with every request sent to `proxy`; returns stdout.
fn run_chromium(exe: &Path, page: &Path, proxy: u16, dir: &Path, extra: &[String]) -> String {
    run_chromium_url(
        exe,
        &format!("file://{}", page.display()),
        proxy,
        dir,
        extra,
    )
}

/// Run Chromium headless on `url` with a fresh profile (a new `--user-data-dir` under `dir`,
/// removed afterwards) and every request sent to `proxy`; returns stdout.
fn run_chromium_url(exe: &Path, url: &str, proxy: u16, dir: &Path, extra: &[String]) -> String {
    static LAUNCH: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = LAUNCH.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let profile = dir.join(format!("profile-{}-{n}", std::process::id()));
    assert!(
        !profile.exists(),
        "profile {} is not fresh",
        profile.display()
    );
    std::fs::create_dir_all(&profile).unwrap();
    let mut cmd = Command::new(exe);
    cmd.args(CHROMIUM_FLAGS)
        .arg(format!("--proxy-server=http://127.0.0.1:{proxy}"))
        // Send even loopback through the recorder.
        .arg("--proxy-bypass-list=<-loopback>")
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().expect("start chromium");
    // Drain stdout while waiting: a DOM larger than the pipe buffer would block Chromium.
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut bytes).expect("read chromium's output");
        String::from_utf8_lossy(&bytes).into_owned()
    });
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("chromium did not finish within 120 s on {url}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "chromium failed on {url}");
    let _ = std::fs::remove_dir_all(&profile);
    reader.join().unwrap()
}

/// Pixels whose channels differ by more than 60: plot colours, never text or table greys.
fn coloured_pixels(png: &Path) -> (u32, u32, usize) {
    let p = resvg::tiny_skia::Pixmap::load_png(png).expect("decode screenshot");
    let n = p
        .pixels()
        .iter()
        .filter(|c| {
            let (r, g, b) = (c.red() as i32, c.green() as i32, c.blue() as i32);
            r.max(g).max(b) - r.min(g).min(b) > 60
        })
        .count();
    (p.width(), p.height(), n)
}

/// Drawing elements (marks, lines, paths) inside each `<svg>` of a DOM dump.
fn marks_per_svg(dom: &str) -> Vec<usize> {
    dom.split("<svg")
        .skip(1)
        .map(|s| {
            let body = s.split("</svg>").next().unwrap_or("");
            ["<path", "<circle", "<polyline", "<polygon", "<line "]
                .iter()
                .map(|t| body.matches(t).count())
                .sum()
        })
        .collect()
}

fn good_csv_with_script_column() -> String {
    let mut s = String::from("params,tokens,<script>alert(1)</script>\n");
    for i in 0..6 {
        for j in 0..4 {
            let n = 1e8 * 3f64.powi(i);
            let d = 2e9 * 4f64.powi(j);
            let l = 1.7 + 400.0 / n.powf(0.34) + 410.0 / d.powf(0.28);
            s.push_str(&format!("{n},{d},{l}\n"));
        }
    }
    s
}

#[test]
fn request_host_reads_proxy_request_lines() {
    assert_eq!(
        request_host("CONNECT update.googleapis.com:443 HTTP/1.1"),
        "update.googleapis.com"
    );
    assert_eq!(
        request_host("GET http://example.invalid/x.png HTTP/1.1"),
        "example.invalid"
    );
    assert_eq!(
        request_host("GET https://fonts.googleapis.com/css HTTP/1.1"),
        "fonts.googleapis.com"
    );
}

#[test]
fn report_renders_in_chromium_with_no_request_leaving_the_page() {
    let Some(exe) = chromium() else {
        assert!(
            std::env::var_os("SCALING_REQUIRE_CHROMIUM").is_none(),
            "SCALING_REQUIRE_CHROMIUM is set but no chromium was found (install Debian's chromium)"
        );
        eprintln!("skipped: no chromium at /usr/bin/chromium (set SCALING_CHROMIUM to its path)");
        return;
    };
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    // The detector must see a page that does fetch: a positive control.
    let leak = dir.join("leak.html");
    std::fs::write(
        &leak,
        r#"<html><body><img src="http://example.invalid/x.png"><link rel="stylesheet" href="https://fonts.googleapis.com/css"></body></html>"#,
    )
    .unwrap();
    let own = housekeeping_hosts(&exe, &dir);
    let rec = Recorder::start();
    run_chromium(&exe, &leak, rec.port, &dir, &["--dump-dom".into()]);
    std::thread::sleep(Duration::from_millis(300));
    let seen = rec.page_requests(&own);
    assert!(
        seen.iter().any(|l| l.contains("example.invalid"))
            && seen.iter().any(|l| l.contains("fonts.googleapis.com")),
        "the request recorder missed the control page's fetches: {seen:?}"
    );

    let mut pages = vec![];
    let csv = dir.join("runs.csv");
    std::fs::write(&csv, good_csv_with_script_column()).unwrap();
    pages.push((
        "synthetic",
        vec![
            csv.display().to_string(),
            "--loss-col".into(),
            "<script>alert(1)</script>".into(),
        ],
    ));
    let epoch =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/epoch_chinchilla_svg.csv");
    if epoch.exists() {
        pages.push((
            "epoch",
            vec![
                epoch.display().to_string(),
                "--drop-top-loss".into(),
                "5".into(),
            ],
        ));
    } else {
        eprintln!("epoch page skipped: {} is absent", epoch.display());
    }

    for (name, args) in pages {
        let html = dir.join(format!("{name}.html"));
        let out = Command::new(env!("CARGO_BIN_EXE_scaling"))
            .arg("report")
            .args(&args)
            .args(["--bootstrap", "200", "-o"])
            .arg(&html)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );

        let rec = Recorder::start();
        let dom = run_chromium(&exe, &html, rec.port, &dir, &["--dump-dom".into()]);
        let shot = dir.join(format!("{name}.png"));
        run_chromium(
            &exe,
            &html,
            rec.port,
            &dir,
            &[
                "--window-size=1280,6000".into(),
                format!("--screenshot={}", shot.display()),
            ],
        );
        std::thread::sleep(Duration::from_millis(300));
        let housekeeping: Vec<String> = rec
            .all()
            .into_iter()
            .filter(|l| own.contains(&request_host(l)))
            .collect();
        if !housekeeping.is_empty() {
            eprintln!("{name}: chromium's own requests, set aside: {housekeeping:?}");
        }
        assert_eq!(
            rec.page_requests(&own),
            Vec::<String>::new(),
            "{name}: the page fetched"
        );

        // The browser parsed the user's <script> as text, and made no script element.
        assert!(
            !dom.contains("<script"),
            "{name}: a script element in the DOM"
        );
        if name == "synthetic" {
            assert!(
                dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
                "{name}: the column name is not text in the DOM ({} bytes): {}",
                dom.len(),
                &dom[..dom.len().min(300)]
            );
        }
        let marks = marks_per_svg(&dom);
        assert!(
            marks.len() >= 4,
            "{name}: only {} plots in the DOM",
            marks.len()
        );
        assert!(
            marks.iter().all(|&m| m >= 5),
            "{name}: a plot with no drawing: {marks:?}"
        );
        let (w, h, coloured) = coloured_pixels(&shot);
        assert_eq!((w, h), (1280, 6000));
        assert!(
            coloured > 5000,
            "{name}: only {coloured} coloured pixels in {}",
            shot.display()
        );
        eprintln!(
            "{name}: {} plots, {coloured} coloured pixels; screenshot {}",
            marks.len(),
            shot.display()
        );
    }
}
