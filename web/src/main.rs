//! The page's entry point: install the panic panel, then mount the app (or, with
//! `?bench=N`, run the engine benchmark and show its JSON).

use leptos::prelude::*;

fn main() {
    clusterlab_web::fatal::install_panic_hook();
    let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
    let bench = web_sys::UrlSearchParams::new_with_str(&search).ok().and_then(|p| p.get("bench"));
    match bench.map(|n| n.parse::<u64>()) {
        Some(Ok(n)) if n > 0 => {
            let json = clusterlab_web::bench::run(n);
            leptos::mount::mount_to_body(move || view! { <pre id="bench">{json.clone()}</pre> });
        }
        _ => leptos::mount::mount_to_body(clusterlab_web::App),
    }
}
