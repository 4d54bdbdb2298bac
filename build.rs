// The PostgreSQL test suite runs only where a server is named: with REACTIF_TEST_POSTGRES_URL
// set at build time, its tests compile as ordinary tests; without it they compile as ignored,
// so a plain `cargo test` lists them as "ignored" with the reason instead of passing silently.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(reactif_pg)");
    println!("cargo::rerun-if-env-changed=REACTIF_TEST_POSTGRES_URL");
    println!("cargo::rerun-if-changed=migrations");
    if std::env::var("REACTIF_TEST_POSTGRES_URL").is_ok_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=reactif_pg");
    }
}
