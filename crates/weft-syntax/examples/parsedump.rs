use weft_syntax::*;
fn main() {
    let path = std::env::args().nth(1).unwrap_or_default();
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let mut sm = SourceMap::new();
    let id = sm.add(path.clone(), text.clone());
    let (m, d) = parse_module(id, &text);
    println!("{} items", m.items.len());
    print!("{}", diag::render_plain(&d, &sm));
    if std::env::args().nth(2).is_some() {
        println!("{:#?}", m);
    }
}
