//! Generates include/krbap.h from the FFI module with cbindgen on every build.
//! Only the files of src/ffi/ are parsed, in the order below (the header's order): the
//! header holds exactly the C ABI, nothing of the core. The header is committed; `make
//! test` fails if the committed copy is stale.
//!
//! It also gives libkrbap.so its ELF identity (README, "ABI policy"): the SONAME
//! `libkrbap.so.MAJOR`, and next to the built library the link `libkrbap.so.MAJOR` that
//! programs linked against target/<profile> load at run time.

/// The C-concept files of src/ffi/, in header order. A new file must be added here.
const FFI_FILES: &[&str] = &[
    "status", "buffer", "name", "cred", "context", "message", "rcache", "spnego", "http", "pac",
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
    soname();
}

/// ELF targets: link the cdylib with SONAME `libkrbap.so.MAJOR` (the major version is where
/// an ABI break is declared), and make `libkrbap.so.MAJOR` -> `libkrbap.so` in the output
/// directory, since a program linked with `-L target/release -lkrbap` records the SONAME
/// and looks for that name. Which symbols are exported is not set here: rustc links every
/// cdylib with its own version script exporting only the `#[no_mangle]` functions (all
/// `krbap_*`, in src/ffi/; GNU ld accepts one anonymous version script, so we cannot add
/// ours), and tests/abi.sh checks that exactly the header's functions are exported.
fn soname() {
    let env = |k: &str| std::env::var(k).unwrap_or_default();
    let os = env("CARGO_CFG_TARGET_OS");
    if env("CARGO_CFG_TARGET_FAMILY") != "unix" || matches!(os.as_str(), "macos" | "ios") {
        return;
    }
    let soname = format!("libkrbap.so.{}", env("CARGO_PKG_VERSION_MAJOR"));
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
    // OUT_DIR is <target>/<profile>/build/krbap-HASH/out; the library is linked into
    // <target>/<profile>. The link may dangle until the cdylib is linked (e.g. clippy).
    let out = std::path::PathBuf::from(env("OUT_DIR"));
    let Some(profile_dir) = out.ancestors().nth(3) else {
        return;
    };
    let link = profile_dir.join(&soname);
    if std::fs::read_link(&link).is_ok_and(|t| t == std::path::Path::new("libkrbap.so")) {
        return;
    }
    let _ = std::fs::remove_file(&link);
    #[cfg(unix)]
    if let Err(e) = std::os::unix::fs::symlink("libkrbap.so", &link) {
        println!(
            "cargo:warning=cannot link {} -> libkrbap.so: {e}",
            link.display()
        );
    }
}
