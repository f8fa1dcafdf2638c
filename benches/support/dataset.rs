//! The benchmarks' data set (shared by `backup` and `offsite`): files as a
//! small office has them (many small documents, text-like or random, a few
//! large random files) and a PostgreSQL table, generated from a seed so
//! that runs compare; and the "day of work" that changes 1% of them.

use std::path::{Path, PathBuf};
use std::time::Instant;

pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn bytes(&mut self, n: usize, text: bool) -> Vec<u8> {
        if text {
            const WORDS: &[&str] = &[
                "mairie",
                "conseil",
                "délibération",
                "budget",
                "école",
                "voirie",
                "association",
                "compte-rendu",
                "facture",
                "devis",
                "planning",
                "réunion",
                "le",
                "la",
                "des",
                "et",
            ];
            let mut v = Vec::with_capacity(n + 16);
            while v.len() < n {
                v.extend_from_slice(WORDS[(self.next() % WORDS.len() as u64) as usize].as_bytes());
                v.push(if self.next() % 12 == 0 { b'\n' } else { b' ' });
            }
            v.truncate(n);
            v
        } else {
            let mut v: Vec<u8> = (0..n / 8 + 1)
                .flat_map(|_| self.next().to_le_bytes())
                .collect();
            v.truncate(n);
            v
        }
    }
}

/// Fill the volume at `data` and the database (through `psql`) with about
/// `total_mb` MiB: 80% files, 20% rows. Returns the small files.
pub fn fill(
    rng: &mut Rng,
    data: &Path,
    total_mb: u64,
    psql: &dyn Fn(&str) -> String,
) -> Vec<PathBuf> {
    let t = Instant::now();
    let files_bytes = total_mb * 1024 * 1024 * 8 / 10;
    let mut written = 0u64;
    let mut small = Vec::new();
    // Large random files: a quarter of the file bytes.
    for i in 0..4 {
        let n = (files_bytes / 16) as usize;
        std::fs::write(data.join(format!("video-{i}.bin")), rng.bytes(n, false)).unwrap();
        written += n as u64;
    }
    let mut i = 0;
    while written < files_bytes {
        let dir = data.join(format!("docs/{:03}", i / 200));
        if i % 200 == 0 {
            std::fs::create_dir_all(&dir).unwrap();
        }
        let n = 1024 + (rng.next() % (80 * 1024)) as usize;
        let p = dir.join(format!("f{i}.{}", if i % 3 == 0 { "bin" } else { "txt" }));
        std::fs::write(&p, rng.bytes(n, i % 3 != 0)).unwrap();
        small.push(p);
        written += n as u64;
        i += 1;
    }
    let db_mb = total_mb * 2 / 10;
    psql("create table notes (id serial primary key, body text not null)");
    // Rows of ~1 KiB of md5 text (half compressible).
    let rows = db_mb * 1024;
    psql(&format!(
        "insert into notes (body) select string_agg(md5((g * 64 + k)::text), ' ') from generate_series(1, {rows}) g, generate_series(1, 30) k group by g"
    ));
    let db_size = psql("select pg_size_pretty(pg_database_size('notes'))");
    println!(
        "data set: {} small files + 4 large, {:.0} MiB of files; database {db_size}; prepared in {:.0} s",
        small.len(),
        written as f64 / 1048576.0,
        t.elapsed().as_secs_f64()
    );
    small
}

/// A day of work: 1% of the small files rewritten (`day` varies the rows
/// touched) and 1% of the rows updated.
pub fn a_day(rng: &mut Rng, small: &[PathBuf], day: usize, psql: &dyn Fn(&str) -> String) {
    for f in small.iter().skip(day % 100).step_by(100) {
        let n = std::fs::metadata(f).unwrap().len() as usize;
        std::fs::write(f, rng.bytes(n, f.extension().is_some_and(|e| e == "txt"))).unwrap();
    }
    psql(&format!(
        "update notes set body = md5(body) || body where id % 100 = {}",
        day % 100
    ));
}
