//! Running one job per host (or per site) at once, with one spinner line
//! per item on stderr, results in the items' order.

use std::time::Duration;

/// Run `f` on every item, at most `parallel` at once, with one spinner per
/// item (named by `name`) that ends with the word `end` gives; results in
/// the items' order.
pub fn in_parallel<T, R, F>(
    items: &[T],
    name: impl Fn(&T) -> &str + Sync,
    parallel: usize,
    f: F,
    end: impl Fn(&R) -> &'static str + Sync,
) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T, &indicatif::ProgressBar) -> R + Sync,
{
    let mp = indicatif::MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::stderr());
    let mut out = Vec::new();
    for chunk in items.chunks(parallel.max(1)) {
        std::thread::scope(|s| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|item| {
                    let pb = host_bar(&mp, name(item));
                    let (f, end) = (&f, &end);
                    s.spawn(move || {
                        let r = f(item, &pb);
                        pb.finish_with_message(end(&r));
                        r
                    })
                })
                .collect();
            for h in handles {
                out.push(h.join().expect("host thread panicked"));
            }
        });
    }
    out
}

/// One spinner line per host on stderr (drawn only on a terminal).
fn host_bar(mp: &indicatif::MultiProgress, host: &str) -> indicatif::ProgressBar {
    let pb = mp.add(indicatif::ProgressBar::new_spinner());
    pb.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {prefix:<12} {elapsed:>4} {msg}")
            .expect("valid template"),
    );
    pb.set_prefix(host.to_string());
    pb.set_message("connecting");
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}
