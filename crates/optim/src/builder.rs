//! Builder methods for options kept in public fields.

/// Writes one builder method per listed field: `Adam::new(lr).eps(1e-6)`
/// sets `eps` and returns the options. The fields document the options.
macro_rules! builder_methods {
    ($owner:ident { $($field:ident: $type:ty),* $(,)? }) => {
        impl $owner {
            $(
                #[doc = concat!("With `", stringify!($field), "` set (see the field of that name).")]
                pub fn $field(mut self, $field: $type) -> $owner {
                    self.$field = $field;
                    self
                }
            )*
        }
    };
}

pub(crate) use builder_methods;
