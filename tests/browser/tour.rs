//! The tour: every page Ada and a signed-out visitor can open, at a desktop and a phone width,
//! each in the light and the dark colour scheme (emulated through chromedriver's passthrough to
//! the DevTools protocol, and checked with `matchMedia` before anything is measured). Each page
//! gets a screenshot, `{n}-{device}-{scheme}-{page}.png` in `target/tmp/browser/`; axe-core,
//! where a violation of impact "serious" or "critical" fails the test (every finding goes to
//! `axe.txt`); and, at the phone's 390 px, the overflow check: the document no wider than the
//! viewport, no element reaching past its right edge, and no control (a link, a button, a field)
//! cut off inside a box that scrolls sideways until it is scrolled. Other boxes that scroll
//! sideways (a long code sample) are allowed; `overflow.txt` lists each.

use std::fmt;
use std::path::Path;

use fantoccini::{Client, Locator};

use crate::harness::{out_dir, shot};

/// A `prefers-color-scheme`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Light,
    Dark,
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Light => "light",
            Self::Dark => "dark",
        })
    }
}

/// Makes the pages of `client`'s tab match `scheme`, until told otherwise (navigations keep it).
async fn emulate(client: &Client, driver: u16, scheme: Scheme) {
    let session = client
        .session_id()
        .await
        .unwrap()
        .expect("a WebDriver session");
    let command = serde_json::json!({
        "cmd": "Emulation.setEmulatedMedia",
        "params": {"features": [{"name": "prefers-color-scheme", "value": scheme.to_string()}]},
    });
    let response = reqwest::Client::new()
        .post(format!(
            "http://127.0.0.1:{driver}/session/{session}/goog/cdp/execute"
        ))
        .json(&command)
        .send()
        .await
        .unwrap();
    let status = response.status();
    assert!(
        status.is_success(),
        "chromedriver did not emulate {scheme}: {status} {}",
        response.text().await.unwrap_or_default()
    );
}

/// Fails unless the page in `client` matches `scheme`: a screenshot or an axe-core run in the
/// wrong scheme would pass for the right one.
async fn assert_scheme(client: &Client, scheme: Scheme, page: &str) {
    let dark = client
        .execute(
            "return matchMedia('(prefers-color-scheme: dark)').matches;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        dark.as_bool(),
        Some(scheme == Scheme::Dark),
        "{page} is not in the {scheme} scheme: the emulation did not take"
    );
}

/// axe-core's script (`npm install --prefix target/npm axe-core`; `.ci/run` installs it).
fn axe_source() -> String {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("target/npm/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} is missing: run `npm install --no-save --prefix target/npm axe-core`",
            path.display()
        )
    })
}

/// Runs axe-core on the page: its violations as (rule, impact, how many nodes).
async fn axe(client: &Client, source: &str) -> Vec<(String, String, u64)> {
    // WebDriver's scripts run outside the page's Content-Security-Policy.
    client.execute(source, vec![]).await.unwrap();
    let found = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {resultTypes: ['violations']})
                .then(r => done(r.violations.map(v => [v.id, v.impact || 'none', v.nodes.length])))
                .catch(e => done([['axe-error: ' + e, 'critical', 0]]));",
            vec![],
        )
        .await
        .unwrap();
    found
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v[0].as_str().unwrap().to_string(),
                v[1].as_str().unwrap().to_string(),
                v[2].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

/// The document's width, the viewport's, and every element whose right edge passes the
/// viewport's (tag, class, id, right edge, width), leaving out what is shown only inside a
/// parent that clips on the x axis (overflow hidden, auto, scroll or clip: a table that scrolls
/// on its own) and what is visually hidden (1 px boxes, clipped to nothing, invisible).
const OVERFLOW: &str = "
    const root = document.documentElement;
    const viewport = root.clientWidth;
    const clips = el => ['hidden', 'auto', 'scroll', 'clip'].includes(getComputedStyle(el).overflowX);
    const hidden = el => {
        const style = getComputedStyle(el);
        const box = el.getBoundingClientRect();
        return (box.width <= 1 && box.height <= 1) || style.visibility === 'hidden'
            || style.clip === 'rect(0px, 0px, 0px, 0px)' || style.clipPath === 'inset(50%)';
    };
    const shownInside = el => {
        for (let p = el.parentElement; p && p !== root; p = p.parentElement) {
            if (clips(p) || hidden(p)) return true;
        }
        return false;
    };
    const past = [];
    for (const el of document.body.querySelectorAll('*')) {
        const box = el.getBoundingClientRect();
        const right = box.right + window.scrollX;
        if ((box.width === 0 && box.height === 0) || right <= viewport + 0.5) continue;
        if (hidden(el) || shownInside(el)) continue;
        const cls = typeof el.className === 'string' ? el.className : '';
        past.push([el.tagName.toLowerCase(), cls, el.id, Math.round(right), Math.round(box.width)]);
    }
    const scrollers = [];
    for (const el of document.body.querySelectorAll('*')) {
        const style = getComputedStyle(el);
        if (!clips(el) || el.scrollWidth <= el.clientWidth + 1 || style.textOverflow === 'ellipsis'
            || hidden(el) || shownInside(el)) continue;
        const edge = el.getBoundingClientRect().left + el.clientLeft + el.clientWidth;
        const controls = [...el.querySelectorAll('a, button, input, select, textarea, summary')]
            .filter(c => c.getBoundingClientRect().right > edge + 1)
            .map(c => (c.innerText || c.value || c.name || c.tagName).trim().slice(0, 30));
        const cls = typeof el.className === 'string' ? el.className : '';
        scrollers.push([el.tagName.toLowerCase(), cls, el.id, el.scrollWidth, el.clientWidth, controls]);
    }
    return [root.scrollWidth, viewport, past, scrollers];";

/// `tag.class.class#id` of an element the overflow script listed.
fn element_name(element: &serde_json::Value) -> String {
    let mut name = element[0].as_str().unwrap().to_string();
    for class in element[1].as_str().unwrap().split_whitespace() {
        name.push('.');
        name.push_str(class);
    }
    if let Some(id) = element[2].as_str().filter(|id| !id.is_empty()) {
        name.push('#');
        name.push_str(id);
    }
    name
}

/// What the overflow check found on a page.
struct Overflow {
    /// What is wrong, if anything: the document's and the viewport's widths, and the elements
    /// past the viewport's edge.
    wrong: Option<String>,
    /// Not a failure, but worth knowing: the boxes whose content scrolls sideways inside them,
    /// and the controls cut off until they are scrolled.
    scrolling: Vec<String>,
}

/// The overflow check on the page in `client`.
async fn overflow(client: &Client) -> Overflow {
    let found = client.execute(OVERFLOW, vec![]).await.unwrap();
    let document = found[0].as_u64().unwrap();
    let viewport = found[1].as_u64().unwrap();
    let past: Vec<String> = found[2]
        .as_array()
        .unwrap()
        .iter()
        .map(|element| {
            format!(
                "{} (right edge {} px, {} px wide)",
                element_name(element),
                element[3],
                element[4]
            )
        })
        .collect();
    let mut cut_off = Vec::new();
    let scrolling = found[3]
        .as_array()
        .unwrap()
        .iter()
        .map(|element| {
            let controls: Vec<&str> = element[5]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(serde_json::Value::as_str)
                .collect();
            let line = format!(
                "{} scrolls sideways: {} px of content in {} px{}",
                element_name(element),
                element[3],
                element[4],
                if controls.is_empty() {
                    String::new()
                } else {
                    format!("; cut off until scrolled: {}", controls.join(", "))
                }
            );
            if !controls.is_empty() {
                cut_off.push(line.clone());
            }
            line
        })
        .collect();
    // A control hidden in a box that scrolls sideways is as unreachable on a phone as one past
    // the viewport's edge: it fails too.
    if document <= viewport && past.is_empty() && cut_off.is_empty() {
        return Overflow {
            wrong: None,
            scrolling,
        };
    }
    const SHOWN: usize = 15;
    let mut report = format!(
        "the document is {document} px wide in a {viewport} px viewport; {} element(s) past its edge:",
        past.len()
    );
    for element in past.iter().take(SHOWN) {
        report.push_str("\n    ");
        report.push_str(element);
    }
    if past.len() > SHOWN {
        report.push_str(&format!("\n    ... and {} more", past.len() - SHOWN));
    }
    for line in &cut_off {
        report.push_str("\n    ");
        report.push_str(line);
    }
    Overflow {
        wrong: Some(report),
        scrolling,
    }
}

/// Fails, with the overflow check's report, when the page in `client` is wider than its
/// viewport or has an element past its right edge.
pub(crate) async fn assert_fits(client: &Client, page: &str) {
    if let Some(report) = overflow(client).await.wrong {
        panic!("{page}: {report}");
    }
}

/// A page of the tour: the browser that opens it, its origin, path and short name.
pub(crate) type Page<'a> = (&'a Client, &'a (String, &'a str, &'a str));

/// Opens each of `pages` as the module says, in `browsers` (all those the pages use, each with
/// its own tab); `driver` is chromedriver's port.
pub(crate) async fn check(browsers: &[&Client], pages: &[Page<'_>], driver: u16) {
    let source = axe_source();
    let mut summary = String::new();
    let mut serious = Vec::new();
    let mut overflowing = Vec::new();
    let mut scrollers = Vec::new();
    let mut n = 20;
    for (width, height, device) in [(1280, 900, "desktop"), (390, 844, "phone")] {
        for client in browsers {
            client.set_window_size(width, height).await.unwrap();
        }
        for scheme in [Scheme::Light, Scheme::Dark] {
            for client in browsers {
                emulate(client, driver, scheme).await;
            }
            for (client, (origin, path, name)) in pages {
                client.goto(&format!("{origin}{path}")).await.unwrap();
                client.find(Locator::Css("main")).await.unwrap();
                let page = format!("{device} {scheme} {path}");
                assert_scheme(client, scheme, &page).await;
                shot(client, n, &format!("{device}-{scheme}-{name}")).await;
                n += 1;
                let violations = axe(client, &source).await;
                summary.push_str(&format!("{page}: {}\n", violations.len()));
                for (rule, impact, nodes) in violations {
                    summary.push_str(&format!("  {impact} {rule} ({nodes} nodes)\n"));
                    if impact == "serious" || impact == "critical" {
                        serious.push(format!("{page}: {impact} {rule} ({nodes} nodes)"));
                    }
                }
                if device == "phone" {
                    let found = overflow(client).await;
                    if let Some(report) = found.wrong {
                        overflowing.push(format!("{page}: {report}"));
                    }
                    for inside in found.scrolling {
                        scrollers.push(format!("{page}: {inside}"));
                    }
                }
            }
        }
    }
    std::fs::write(out_dir().join("axe.txt"), &summary).unwrap();
    let report = format!(
        "Wider than the phone:\n{}\n\nScrolling sideways inside their own box (allowed):\n{}\n",
        overflowing.join("\n"),
        scrollers.join("\n")
    );
    std::fs::write(out_dir().join("overflow.txt"), report).unwrap();
    assert!(
        serious.is_empty() && overflowing.is_empty(),
        "axe-core: {serious:#?}\nwider than a 390 px phone:\n{}\n\n{summary}",
        overflowing.join("\n")
    );
}
