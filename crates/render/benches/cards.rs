//! `cargo bench -p garrison-render`: renders cards from already-decoded images on one thread and
//! prints the median and 99th percentile per card (PNG encoding included). Std timing only.
//!
//! Arguments (after `--`): `--iterations N` (default 2000), `--warmup N` (default 100), `--only TEXT`
//! (run only the cases whose name contains TEXT).
#![allow(clippy::print_stdout)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use garrison_render::{render_level_card, render_welcome_card};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn measure(name: &str, warmup: usize, iterations: usize, mut render: impl FnMut() -> usize) {
    let args: Vec<String> = std::env::args().collect();
    if let Some(only) = args.iter().position(|a| a == "--only").and_then(|i| args.get(i + 1))
        && !name.contains(only.as_str())
    {
        return;
    }
    let mut bytes = 0;
    for _ in 0..warmup {
        bytes = black_box(render());
    }
    let mut samples: Vec<Duration> = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let start = Instant::now();
        black_box(render());
        samples.push(start.elapsed());
    }
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "{name:<44} median {:>7.3} ms   p99 {:>7.3} ms   max {:>7.3} ms   ({iterations} runs, {bytes} bytes)",
        ms(at(0.5)),
        ms(at(0.99)),
        ms(at(1.0)),
    );
}

fn main() {
    let iterations = arg("--iterations", 2000).max(1);
    let warmup = arg("--warmup", 100);
    let load = Instant::now();
    let fonts = common::fonts();
    println!("fonts loaded in {:.1} ms", load.elapsed().as_secs_f64() * 1000.0);
    let avatar = common::avatar();
    let background = common::background();

    let level = common::seed_level_card();
    measure("level card 800x200 (colour background)", warmup, iterations, || {
        render_level_card(&level, Some(&avatar), None, fonts).map(|png| png.len()).unwrap_or(0)
    });

    let mut level_image = level.clone();
    level_image.background.image_opacity = 0.7;
    level_image.background.blur_radius = 8;
    measure("level card 800x200 (image background, blur 8)", warmup, iterations, || {
        render_level_card(&level_image, Some(&avatar), Some(&background), fonts).map(|png| png.len()).unwrap_or(0)
    });

    let welcome = common::seed_welcome_card();
    measure("welcome card 1024x400", warmup, iterations, || {
        render_welcome_card(&welcome, &avatar, &background, fonts).map(|png| png.len()).unwrap_or(0)
    });
}
