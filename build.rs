//! Generates include/krbap.h from the FFI module with cbindgen on every build.
//! Only src/ffi.rs is parsed: the header holds exactly the C ABI, nothing of the core.
//! The header is committed; `make test` fails if the committed copy is stale.

fn main() {
    let crate_dir = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    println!("cargo:rerun-if-changed=src/ffi.rs");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    let config = cbindgen::Config::from_file(format!("{crate_dir}/cbindgen.toml"))
        .expect("cbindgen.toml is readable and valid");
    let bindings = cbindgen::Builder::new()
        .with_src(format!("{crate_dir}/src/ffi.rs"))
        .with_config(config)
        .generate()
        .expect("cbindgen could not generate include/krbap.h");
    // write_to_file leaves the file (and its mtime) alone when the content is unchanged.
    bindings.write_to_file(format!("{crate_dir}/include/krbap.h"));
}
