//! Tiny network sinks for tests of notifications: an SMTP server and an
//! HTTP server, each taking one connection on 127.0.0.1 in a thread and
//! handing what it received to the test over a channel, plus helpers to
//! decode what a mail carries.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use base64::Engine;

/// How long a sink waits on its peer, and how long tests wait on a sink.
pub const WAIT: Duration = Duration::from_secs(15);

/// What the SMTP server received on one connection.
#[derive(Debug, Default)]
pub struct Mail {
    pub helo: String,
    pub auth: Option<String>,
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

/// An SMTP server for one connection: EHLO/HELO, AUTH PLAIN, MAIL FROM,
/// RCPT TO, DATA, RSET, NOOP, QUIT. Sends what it got on the channel.
pub fn smtp_server() -> (u16, Receiver<Mail>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        stream.set_read_timeout(Some(WAIT)).unwrap();
        stream.set_write_timeout(Some(WAIT)).unwrap();
        let mut w = stream.try_clone().unwrap();
        let mut r = BufReader::new(stream);
        let mut mail = Mail::default();
        let mut say = |s: &str| w.write_all(s.as_bytes()).is_ok();
        say("220 test.local ESMTP ready\r\n");
        for _ in 0..100 {
            let mut line = String::new();
            if r.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            let line = line.trim_end().to_string();
            let upper = line.to_ascii_uppercase();
            if upper.starts_with("EHLO") {
                mail.helo = line[4..].trim().to_string();
                say("250-test.local\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n");
            } else if upper.starts_with("HELO") {
                mail.helo = line[4..].trim().to_string();
                say("250 test.local\r\n");
            } else if upper.starts_with("AUTH PLAIN ") {
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(line[11..].trim())
                    .unwrap_or_default();
                mail.auth = Some(String::from_utf8_lossy(&raw).into_owned());
                say("235 2.7.0 authenticated\r\n");
            } else if upper.starts_with("MAIL FROM:") {
                mail.from = angle(&line);
                say("250 2.1.0 ok\r\n");
            } else if upper.starts_with("RCPT TO:") {
                mail.to.push(angle(&line));
                say("250 2.1.5 ok\r\n");
            } else if upper == "DATA" {
                say("354 end with .\r\n");
                for _ in 0..10_000 {
                    let mut l = String::new();
                    if r.read_line(&mut l).unwrap_or(0) == 0 || l == ".\r\n" {
                        break;
                    }
                    let l = l.strip_prefix('.').unwrap_or(&l);
                    mail.data.push_str(l);
                }
                say("250 2.0.0 queued\r\n");
            } else if upper == "QUIT" {
                say("221 bye\r\n");
                break;
            } else if upper == "RSET" || upper == "NOOP" {
                say("250 ok\r\n");
            } else {
                say("502 not implemented\r\n");
            }
        }
        let _ = tx.send(mail);
    });
    (port, rx)
}

pub fn angle(line: &str) -> String {
    let start = line.find('<').map_or(0, |i| i + 1);
    let end = line[start..].find('>').map_or(line.len(), |i| start + i);
    line[start..end].to_string()
}

/// A request received by the HTTP sink.
#[derive(Debug)]
pub struct Request {
    pub line: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// An HTTP server for one request, answering `status` with `answer`.
pub fn http_sink(status: &'static str, answer: &'static str) -> (u16, Receiver<Request>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let mut r = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        let mut headers = Vec::new();
        for _ in 0..100 {
            let mut h = String::new();
            if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                break;
            }
            if let Some((k, v)) = h.trim_end().split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let len: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .map_or(0, |(_, v)| v.parse().unwrap());
        let mut body = vec![0; len.min(1 << 20)];
        r.read_exact(&mut body).unwrap();
        let _ = write!(
            stream,
            "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
            answer.len()
        );
        let _ = stream.flush();
        let _ = tx.send(Request {
            line: line.trim_end().to_string(),
            headers,
            body,
        });
    });
    (port, rx)
}

/// A port where nothing listens.
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Decode quoted-printable text.
pub fn unqp(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' && b[i + 1..].starts_with(b"\r\n") {
            i += 3;
        } else if b[i] == b'=' && i + 2 < b.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The decoded value of header `name` (folded lines, RFC 2047 words).
pub fn header(headers: &str, name: &str) -> String {
    let unfolded = headers.replace("\r\n ", " ").replace("\r\n\t", " ");
    let value = unfolded
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name} header in\n{headers}"));
    // Whitespace between two encoded words is dropped, kept elsewhere.
    let mut out = String::new();
    let mut prev_encoded = false;
    for word in value.split(' ') {
        let lower = word.to_ascii_lowercase();
        let inner = word.get(10..).and_then(|w| w.strip_suffix("?="));
        let decoded = match inner {
            Some(b64) if lower.starts_with("=?utf-8?b?") => Some(
                String::from_utf8(
                    base64::engine::general_purpose::STANDARD
                        .decode(b64)
                        .unwrap(),
                )
                .unwrap(),
            ),
            Some(q) if lower.starts_with("=?utf-8?q?") => Some(unqp(&q.replace('_', " "))),
            _ => None,
        };
        let between_encoded = prev_encoded && decoded.is_some();
        if !out.is_empty() && !between_encoded {
            out.push(' ');
        }
        prev_encoded = decoded.is_some();
        out.push_str(&decoded.unwrap_or_else(|| word.to_string()));
    }
    out
}
