//! One binding for every kernel of several arrays in and arrays out (true range, ATR,
//! MACD, stochastic): a whole-series function writing into buffers the caller allocated
//! on the JS heap, and a `...Stream` class carrying the kernel across calls.

/// Generates, for kernel type `$kernel`:
/// - `$into(inputs.., params.., outputs..)`: the whole series into the output buffers;
/// - class `$stream`: `new(params.., state?)` (a new series, or one continued from
///   `state()`'s bytes), `pushInto(inputs.., outputs..)`, `state()`.
///
/// `params` turns the numbers from JS into the kernel's parameters `p` (its errors
/// are the ones thrown); `new(p)` and `resume(p, bytes)` build the kernel; the kernel's
/// `update(inputs.., outputs..)` checks the lengths and values.
macro_rules! kernel_binding {
    (
        $(#[$into_doc:meta])* fn $into:ident;
        $(#[$stream_doc:meta])* class $stream:ident: $kernel:ty;
        in ($($x:ident),+); params ($($p:ident),*) => $params:expr;
        out ($($o:ident),+);
        new $new:expr; resume $resume:expr;
    ) => {
        $(#[$into_doc])*
        #[napi_derive::napi]
        pub fn $into(
            $($x: &[f64],)+
            $($p: f64,)*
            $(mut $o: napi::bindgen_prelude::Float64Array,)+
        ) -> napi::Result<()> {
            // SAFETY: JS runs nothing else while this synchronous call holds the buffers,
            // and the TypeScript wrapper passes distinct ones.
            let ($($o,)+) = unsafe { ($($o.as_mut(),)+) };
            $crate::napi::guarded(|| {
                let p = &$params;
                let mut k: $kernel = ($new)(p)?;
                k.update($($x,)+ $($o,)+)
            })
        }

        $(#[$stream_doc])*
        #[napi_derive::napi]
        pub struct $stream {
            inner: $kernel,
        }

        #[napi_derive::napi]
        impl $stream {
            /// A new series, or one continued from `state` (bytes from `state()`).
            #[napi(constructor)]
            pub fn new($($p: f64,)* state: Option<&[u8]>) -> napi::Result<Self> {
                $crate::napi::guarded(|| {
                    let p = &$params;
                    let inner: $kernel = match state {
                        Some(b) => ($resume)(p, b)?,
                        None => ($new)(p)?,
                    };
                    Ok($stream { inner })
                })
            }
            /// The outputs for exactly these bars, into the caller's buffers.
            #[napi]
            pub fn push_into(
                &mut self,
                $($x: &[f64],)+
                $(mut $o: napi::bindgen_prelude::Float64Array,)+
            ) -> napi::Result<()> {
                // SAFETY: as in the whole-series function.
                let ($($o,)+) = unsafe { ($($o.as_mut(),)+) };
                $crate::napi::guarded(|| self.inner.update($($x,)+ $($o,)+))
            }
            /// The carried state, to resume from later.
            #[napi]
            pub fn state(&self) -> napi::bindgen_prelude::Uint8Array {
                napi::bindgen_prelude::Uint8Array::new(self.inner.to_bytes())
            }
        }
    };
}

pub(crate) use kernel_binding;
