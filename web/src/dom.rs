//! The page's DOM, by hand: elements built once, regions whose markup is rewritten when
//! (and only when) what they show changes, and a handful of listeners for the whole page
//! that dispatch on `data-act` attributes. A view framework would cost over 100 KB of
//! wasm (gzip) for what these few helpers do; measured in BENCHMARKS.md.

use std::cell::RefCell;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{Document, Element, Event, HtmlElement};

pub fn document() -> Document {
    web_sys::window().and_then(|w| w.document()).expect("a page has a document")
}

/// A new element with these attributes.
pub fn el(tag: &str, attrs: &[(&str, &str)]) -> Element {
    let e = document().create_element(tag).expect("a valid tag");
    for (k, v) in attrs {
        let _ = e.set_attribute(k, v);
    }
    e
}

/// A new element with markup inside.
pub fn el_html(tag: &str, attrs: &[(&str, &str)], html: &str) -> Element {
    let e = el(tag, attrs);
    e.set_inner_html(html);
    e
}

pub fn append(parent: &Element, child: &Element) {
    let _ = parent.append_child(child);
}

/// Text made safe for markup, in text and in quoted attributes.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// Listens for as long as the page lives (the element is never removed).
pub fn listen(target: &web_sys::EventTarget, event: &str, f: impl FnMut(Event) + 'static) {
    let f = Closure::<dyn FnMut(Event)>::new(f);
    let _ = target.add_event_listener_with_callback(event, f.as_ref().unchecked_ref());
    f.forget();
}

/// The element an event came from, or its nearest ancestor, carrying `attr`, and the value.
pub fn closest_with(ev: &Event, attr: &str) -> Option<(Element, String)> {
    let target: Element = ev.target()?.dyn_into().ok()?;
    let found = target.closest(&format!("[{attr}]")).ok().flatten()?;
    let value = found.get_attribute(attr)?;
    Some((found, value))
}

/// The value of the form control an event came from.
pub fn value_of(ev: &Event) -> String {
    let Some(t) = ev.target() else { return String::new() };
    if let Some(i) = t.dyn_ref::<web_sys::HtmlInputElement>() {
        if i.type_() == "checkbox" {
            return if i.checked() { "on".into() } else { "off".into() };
        }
        return i.value();
    }
    if let Some(s) = t.dyn_ref::<web_sys::HtmlSelectElement>() {
        return s.value();
    }
    t.dyn_ref::<web_sys::HtmlTextAreaElement>().map(|a| a.value()).unwrap_or_default()
}

/// Sets a form control's value (an input's, a select's, a checkbox's as "on"/"off").
pub fn set_value(e: &Element, value: &str) {
    if let Some(i) = e.dyn_ref::<web_sys::HtmlInputElement>() {
        if i.type_() == "checkbox" {
            i.set_checked(value == "on");
        } else if i.value() != value {
            i.set_value(value);
        }
    } else if let Some(s) = e.dyn_ref::<web_sys::HtmlSelectElement>() {
        s.set_value(value);
    }
}

pub fn focus(e: &Element) {
    if let Some(h) = e.dyn_ref::<HtmlElement>() {
        let _ = h.focus();
    }
}

/// A part of the page whose markup is rewritten only when it changes, so that a focused
/// control inside keeps its focus while nothing it shows moves.
pub struct Region {
    pub el: Element,
    last: RefCell<String>,
}

impl Region {
    /// A region drawn as a box of its own (`display: contents` keeps it out of the layout).
    pub fn new(parent: &Element) -> Region {
        let el = el("div", &[("class", "region")]);
        append(parent, &el);
        Region { el, last: RefCell::new(String::new()) }
    }

    /// A region that is this element's inside.
    pub fn inside(el: Element) -> Region {
        Region { el, last: RefCell::new(String::new()) }
    }

    pub fn set(&self, html: String) {
        if *self.last.borrow() != html {
            self.el.set_inner_html(&html);
            *self.last.borrow_mut() = html;
        }
    }
}
