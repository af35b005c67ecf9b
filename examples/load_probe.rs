fn main() {
    let p = std::env::args().nth(1).unwrap();
    let t = std::time::Instant::now();
    let d = match oasgate::Document::from_path(&p) {
        Ok(d) => d,
        Err(e) => return println!("{e}"),
    };
    let loaded = t.elapsed();
    match oasgate::OpenApiLayer::new(&d) {
        Ok(l) => println!("ok load {loaded:?} total {:?} {l:?}", t.elapsed()),
        Err(e) => println!("{e}"),
    }
}
