//! The page's entry point: install the panic panel, then build the app (or, with
//! `?bench=N`, run the engine benchmark and show its JSON).

fn main() {
    clusterlab_web::fatal::install_panic_hook();
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    let bench = web_sys::UrlSearchParams::new_with_str(&search).ok().and_then(|p| p.get("bench"));
    match bench.map(|n| n.parse::<u64>()) {
        Some(Ok(n)) if n > 0 => {
            let pre = clusterlab_web::dom::el("pre", &[("id", "bench")]);
            pre.set_text_content(Some(&clusterlab_web::bench::run(n)));
            if let Some(body) = clusterlab_web::dom::document().body() {
                clusterlab_web::dom::append(&body, &pre);
            }
        }
        _ => clusterlab_web::mount_app(),
    }
}
