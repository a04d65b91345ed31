//! Links the `libduckdb` shared library that npm installs with `@duckdb/node-api`,
//! so the process holds one DuckDB and DuckDB is never compiled from source.
//!
//! Search order: `$BARSTREAM_DUCKDB_LIB_DIR`, then `node_modules/@duckdb/node-bindings-<platform>`
//! in the crate's parent directories.
use std::env;
use std::path::{Path, PathBuf};

fn platform_package() -> &'static str {
    match (env::consts::OS, env::consts::ARCH) {
        ("linux", "x86_64") => "node-bindings-linux-x64",
        ("linux", "aarch64") => "node-bindings-linux-arm64",
        ("macos", "aarch64") => "node-bindings-darwin-arm64",
        ("macos", "x86_64") => "node-bindings-darwin-x64",
        ("windows", "x86_64") => "node-bindings-win32-x64",
        _ => "node-bindings-unsupported",
    }
}

fn find_lib_dir() -> Option<PathBuf> {
    if let Ok(dir) = env::var("BARSTREAM_DUCKDB_LIB_DIR") {
        return Some(PathBuf::from(dir));
    }
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").ok()?);
    let mut dir: Option<&Path> = Some(manifest.as_path());
    while let Some(d) = dir {
        let candidate = d
            .join("node_modules")
            .join("@duckdb")
            .join(platform_package());
        if candidate.is_dir() {
            return Some(candidate);
        }
        dir = d.parent();
    }
    None
}

fn main() {
    println!("cargo:rerun-if-env-changed=BARSTREAM_DUCKDB_LIB_DIR");
    println!("cargo:rerun-if-changed=build.rs");
    let lib_dir = find_lib_dir().unwrap_or_else(|| {
        panic!(
            "barstream: cannot find libduckdb. Run `npm install` first (it installs @duckdb/node-api and its \
             platform package @duckdb/{}), or set BARSTREAM_DUCKDB_LIB_DIR to the folder holding libduckdb.",
            platform_package()
        )
    });
    println!("cargo:rustc-link-search=native={}", lib_dir.display());
    println!("cargo:rustc-link-lib=dylib=duckdb");
    if env::consts::OS != "windows" {
        let origin = if env::consts::OS == "macos" {
            "@loader_path"
        } else {
            "$ORIGIN"
        };
        let pkg = platform_package();
        // The addon lives in <pkg>/native/: the library is in <pkg>/node_modules/@duckdb/... during
        // development and in <app>/node_modules/@duckdb/... once barstream is installed as a dependency.
        for rel in [
            format!("{origin}/../node_modules/@duckdb/{pkg}"),
            format!("{origin}/../../@duckdb/{pkg}"),
        ] {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{rel}");
        }
        // Test and bench binaries run from target/: point them at the absolute folder.
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib_dir.display());
    }
    if env::var("CARGO_FEATURE_NAPI").is_ok() {
        napi_build::setup();
    }
}
