//! Component tests in a real headless Chromium (wasm-bindgen-test).
#![cfg(target_arch = "wasm32")]

use clusterlab_web::Catalogue;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn container() -> web_sys::HtmlElement {
    let doc = web_sys::window().unwrap().document().unwrap();
    let div = doc.create_element("div").unwrap();
    doc.body().unwrap().append_child(&div).unwrap();
    div.unchecked_into()
}

#[wasm_bindgen_test]
async fn catalogue_lists_every_pattern_and_links_the_playable_ones() {
    let root = container();
    let _handle = leptos::mount::mount_to(root.clone(), Catalogue);
    leptos::task::tick().await;
    let items = root.query_selector_all("li").unwrap();
    assert_eq!(items.length(), 21);
    let link = root.query_selector("a[href='?p=load-balancing']").unwrap().expect("load balancing is playable");
    assert_eq!(link.text_content().unwrap(), "Load balancing");
    assert!(root.query_selector("a[href='?p=sharding']").unwrap().is_none(), "sharding is not built yet");
}

/// The engine in Chromium gives the very trace the native engine gives.
#[wasm_bindgen_test]
fn trace_hash_in_wasm_equals_native() {
    let (hash, _) = clusterlab_sim::trace_hash(&clusterlab_sim::golden_spec()).unwrap();
    assert_eq!(format!("{hash:016x}"), clusterlab_sim::GOLDEN_TRACE_HASH.trim());
}
