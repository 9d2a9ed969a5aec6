// Embedded migrations (`sqlx::migrate!`) are read at compile time from each domain's folder
// (`src/<domain>/migrations`): rebuild when one is added or changed, not only when Rust code changes.
fn main() {
    println!("cargo:rerun-if-changed=src");
}
