//! Generates include/krbap.h from the FFI module with cbindgen on every build.
//! Only the files of src/ffi/ are parsed, in the order below (the header's order): the
//! header holds exactly the C ABI, nothing of the core. The header is committed; `make
//! test` fails if the committed copy is stale.

/// The C-concept files of src/ffi/, in header order. A new file must be added here.
const FFI_FILES: &[&str] = &[
    "status", "buffer", "name", "cred", "context", "message", "rcache",
];

fn main() {
    let crate_dir = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    let config = cbindgen::Config::from_file(format!("{crate_dir}/cbindgen.toml"))
        .expect("cbindgen.toml is readable and valid");
    let mut builder = cbindgen::Builder::new().with_config(config);
    for file in FFI_FILES {
        builder = builder.with_src(format!("{crate_dir}/src/ffi/{file}.rs"));
    }
    let bindings = builder
        .generate()
        .expect("cbindgen could not generate include/krbap.h");
    // write_to_file leaves the file (and its mtime) alone when the content is unchanged.
    bindings.write_to_file(format!("{crate_dir}/include/krbap.h"));
}
