//! One-click downloads of the run, each named by scene, seed and virtual time: the report
//! (JSON), the charts' data (CSV, virtual time first), the stage as a picture (PNG, at the
//! screen's pixel ratio), a short clip of the stage (WebM, recorded by the browser) and
//! the space-time diagram (SVG).

use clusterlab_sim::num::Fixed;
use crate::dom::document;
use crate::page::{Ui, with_ui};
use clusterlab_sim::report::Report;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

/// How long a clip records, in real time.
const CLIP_MS: i32 = 5_000;

/// `clusterlab-<scene>-seed<seed>-<t>s.<ext>`: what it is, and the instant it shows.
fn file_name(ui: &Ui, ext: &str) -> String {
    let (scene, seed) = (ui.scenario.scene.info().id, ui.scenario.seed);
    let t = ui.runner.as_ref().map_or(0.0, |r| r.sim.world.now() as f64 / 1e6);
    format!("clusterlab-{scene}-seed{seed}-{}s.{ext}", Fixed(t, 1))
}

/// Hands `href` to the browser as a download called `name`.
fn save(href: &str, name: &str) {
    if let Some(a) = document().create_element("a").ok().and_then(|e| e.dyn_into::<web_sys::HtmlAnchorElement>().ok()) {
        a.set_href(href);
        a.set_download(name);
        a.click();
    }
}

fn save_blob(blob: &web_sys::Blob, name: &str) {
    if let Ok(url) = web_sys::Url::create_object_url_with_blob(blob) {
        save(&url, name);
        let _ = web_sys::Url::revoke_object_url(&url);
    }
}

fn save_text(text: &str, mime: &str, name: &str) {
    let parts = web_sys::js_sys::Array::of1(&text.into());
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    if let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts) {
        save_blob(&blob, name);
    }
}


/// Records the stage for `CLIP_MS` and downloads the clip; `recording` is true meanwhile.
fn record_clip(ui: &mut Ui) -> Option<()> {
    let stream = ui.stage.capture_stream_with_frame_request_rate(30.0).ok()?;
    let opts = web_sys::MediaRecorderOptions::new();
    opts.set_mime_type("video/webm");
    let recorder = web_sys::MediaRecorder::new_with_media_stream_and_media_recorder_options(&stream, &opts).ok()?;
    let chunks = Rc::new(RefCell::new(web_sys::js_sys::Array::new()));
    let kept = chunks.clone();
    let on_data = Closure::<dyn FnMut(web_sys::BlobEvent)>::new(move |e: web_sys::BlobEvent| {
        if let Some(data) = e.data() {
            kept.borrow().push(&data);
        }
    });
    recorder.set_ondataavailable(Some(on_data.as_ref().unchecked_ref()));
    let name = file_name(ui, "webm");
    let on_stop = Closure::<dyn FnMut()>::new(move || {
        let opts = web_sys::BlobPropertyBag::new();
        opts.set_type("video/webm");
        if let Ok(blob) = web_sys::Blob::new_with_blob_sequence_and_options(&chunks.borrow(), &opts) {
            save_blob(&blob, &name);
        }
        with_ui(|ui| {
            ui.recording = false;
            ui.render();
        });
    });
    recorder.set_onstop(Some(on_stop.as_ref().unchecked_ref()));
    recorder.start().ok()?;
    ui.recording = true;
    let stop = Closure::<dyn FnMut()>::new(move || {
        let _ = recorder.stop();
    });
    web_sys::window()?.set_timeout_with_callback_and_timeout_and_arguments_0(stop.as_ref().unchecked_ref(), CLIP_MS).ok()?;
    // Each handler runs once or twice in the page's life: kept rather than tracked.
    on_data.forget();
    on_stop.forget();
    stop.forget();
    Some(())
}

/// One of the download buttons: `report`, `csv`, `png`, `clip` or `svg`.
pub fn export(ui: &mut Ui, what: &str) {
    match what {
        "report" => {
            if let Some(json) = ui.runner.as_ref().map(|r| Report::of(&r.sim, 0.0).to_json()) {
                save_text(&json, "application/json", &file_name(ui, "json"));
            }
        }
        "csv" => {
            if let Some(csv) = ui.runner.as_ref().map(|r| r.sim.series.to_csv()) {
                save_text(&csv, "text/csv", &file_name(ui, "csv"));
            }
        }
        "png" => {
            if let Ok(url) = ui.stage.to_data_url() {
                save(&url, &file_name(ui, "png"));
            }
        }
        "svg" => {
            if let Some(svg) = crate::views::diagram_svg(ui) {
                save_text(&svg, "image/svg+xml", &file_name(ui, "svg"));
            }
        }
        _ if !ui.recording => drop(record_clip(ui)),
        _ => {}
    }
}
