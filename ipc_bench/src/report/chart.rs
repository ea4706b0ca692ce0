//! The charts. The latency chart: one panel per message size, one above the other, the median
//! round trip of each mechanism and placement as a dot, its p99 as the end of a line above the
//! dot, on a log scale; the floor as a grey line. The workers chart: memory per idle worker
//! against the number of workers. Drawn with plotters' SVG backend, which writes text as SVG
//! text and needs no font files.

use std::ops::Range;
use std::path::Path;

use plotters::prelude::*;

use crate::report::ipc::Results;
use crate::report::workers::WorkersResults;
use crate::stats;
use crate::sys::Placement;
use crate::workers::Kind;

const COLORS: [RGBColor; 3] =
    [RGBColor(31, 119, 180), RGBColor(214, 39, 40), RGBColor(44, 160, 44)];

/// The width of a chart, the width at which mdBook's page shows it unscaled.
const WIDTH: u32 = 760;
/// The height of one panel of the latency chart.
const PANEL_HEIGHT: u32 = 420;
/// Font sizes, in pixels at that width.
const TITLE_FONT: u32 = 18;
const CAPTION_FONT: u32 = 17;
const LABEL_FONT: u32 = 15;

/// Decades left free above the slowest p99: the legend's four lines take about 1.3 of them.
const LEGEND_DECADES: f64 = 1.5;

/// Writes the chart as SVG to `path`.
pub fn latency_svg(results: &Results, path: &Path) -> crate::Result<()> {
    let sizes = &results.latency_sizes;
    // Panels one above the other, as wide as a book page shows them: side by side, they were
    // scaled down until their labels could not be read.
    let root =
        SVGBackend::new(path, (WIDTH, 44 + PANEL_HEIGHT * sizes.len() as u32)).into_drawing_area();
    root.fill(&WHITE)?;
    let (title, body) = root.split_vertically(44);
    title.titled(
        &format!("Round trip between two processes ({})", results.machine),
        ("sans-serif", TITLE_FONT),
    )?;
    let range = shared_range(results);
    for (index, (panel, &size)) in body.split_evenly((sizes.len(), 1)).iter().zip(sizes).enumerate()
    {
        // One legend is enough: the panels share series and colours.
        draw_panel(panel, results, size, range.clone(), index == 0)?;
    }
    root.present()?;
    Ok(())
}

/// One scale for every panel, in µs, so that they compare by eye: whole decades, from below
/// half the floor to well above the slowest p99, which leaves the top free for the legend.
fn shared_range(results: &Results) -> Range<f64> {
    let all = results
        .latency
        .iter()
        .flat_map(|c| [c.latency.median_ns, c.latency.p99_ns])
        .chain(results.refs.floor.map(|f| f.median_ns));
    let (lo, hi) = all.fold((f64::MAX, f64::MIN), |(lo, hi), ns| (lo.min(ns), hi.max(ns)));
    let lo_us = 10f64.powf((lo / 2e3).log10().floor());
    let hi_us = 10f64.powf(((hi / 1e3).log10() + LEGEND_DECADES).ceil());
    lo_us..hi_us
}

type Panel<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

/// The panel of one message size: axes, the floor, one series per placement, and the legend
/// if `legend`.
fn draw_panel(
    panel: &Panel<'_>,
    results: &Results,
    size: usize,
    range: Range<f64>,
    legend: bool,
) -> crate::Result<()> {
    let mechanisms = results.mechanisms();
    let width = mechanisms.len() as f64;
    let mut chart = ChartBuilder::on(panel)
        .caption(format!("{} messages", stats::size(size)), ("sans-serif", CAPTION_FONT))
        .margin(10)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5f64..width - 0.5, range.log_scale())?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(mechanisms.len())
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                mechanisms.get(i as usize).map_or(String::new(), |m| m.name().to_string())
            } else {
                String::new()
            }
        })
        .y_desc("round trip, µs (log scale)")
        .y_label_formatter(&|us| format!("{us}"))
        .label_style(("sans-serif", LABEL_FONT))
        .axis_desc_style(("sans-serif", LABEL_FONT))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;

    if let Some(floor) = results.refs.floor {
        let floor_us = floor.median_ns / 1e3;
        let grey = RGBColor(110, 110, 110).stroke_width(2);
        chart
            .draw_series(LineSeries::new([(-0.5, floor_us), (width - 0.5, floor_us)], grey))?
            .label("floor (one cache line, round trip)")
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], grey));
    }

    let placements = results.placements();
    for (k, &placement) in placements.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        // Placements side by side around each mechanism's position.
        let offset = (k as f64 - (placements.len() as f64 - 1.0) / 2.0) * 0.22;
        let points: Vec<(f64, f64, f64)> = mechanisms
            .iter()
            .enumerate()
            .filter_map(|(i, &m)| {
                results
                    .latency_of(m, placement, size)
                    .map(|l| (i as f64 + offset, l.median_ns / 1e3, l.p99_ns / 1e3))
            })
            .collect();
        chart.draw_series(points.iter().map(|&(x, median, p99)| {
            PathElement::new([(x, median), (x, p99)], color.stroke_width(2))
        }))?;
        chart
            .draw_series(
                points.iter().map(|&(x, median, _)| Circle::new((x, median), 4, color.filled())),
            )?
            .label(legend_label(placement))
            .legend(move |(x, y)| Circle::new((x + 8, y), 4, color.filled()));
    }
    if legend {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font(("sans-serif", LABEL_FONT))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
    }
    Ok(())
}

fn legend_label(placement: Placement) -> String {
    format!("{}: median, line to p99", placement.name())
}

/// Memory per worker (PSS) against the number of workers, one line per kind, log scales.
pub fn memory_svg(results: &WorkersResults, machine: &str, path: &Path) -> crate::Result<()> {
    let root = SVGBackend::new(path, (WIDTH, 440)).into_drawing_area();
    root.fill(&WHITE)?;
    let counts: Vec<usize> = {
        let mut c: Vec<usize> = results.memory.iter().map(|m| m.workers).collect();
        c.sort_unstable();
        c.dedup();
        c
    };
    let max_kib = results.memory.iter().map(|m| m.pss_kib).fold(1.0, f64::max);
    let min_kib = results.memory.iter().map(|m| m.pss_kib).fold(f64::MAX, f64::min).max(1.0);
    let x_max = *counts.last().unwrap_or(&1) as f64 * 2.0;
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("Memory per idle worker, PSS ({machine})"), ("sans-serif", CAPTION_FONT))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (0.7f64..x_max).log_scale(),
            (min_kib / 4.0..max_kib * 40.0).log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_desc("workers")
        .y_desc("KiB per worker (log scale)")
        .label_style(("sans-serif", LABEL_FONT))
        .axis_desc_style(("sans-serif", LABEL_FONT))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    for (k, kind) in Kind::ALL.into_iter().enumerate() {
        let color = COLORS[k];
        let points: Vec<(f64, f64)> = results
            .memory
            .iter()
            .filter(|m| m.kind == kind)
            .map(|m| (m.workers as f64, m.pss_kib.max(min_kib / 4.0)))
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
            .label(kind.name())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2)));
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, color.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font(("sans-serif", LABEL_FONT))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
