//! A rule's options: its kind, starting learning rate, validation, what
//! checkpoints record, and the momentum that cyclical schedules cycle; and
//! `rule_options!`, which writes all of it from the list of options.

use crate::error::OptimError;

/// What [`crate::Optim`] needs to know about a rule's options. The rules of
/// this crate get it from one declaration; a rule of your own implements it
/// by hand (see [`crate::UpdateRule`]).
pub trait RuleOptions: Clone + Send + Sync + std::fmt::Debug {
    /// The rule's name in checkpoints, so that its state cannot load into
    /// another rule.
    const KIND: &'static str;

    /// The learning rate a group using this rule starts at (PyTorch's
    /// `defaults["lr"]`); from then on the group holds its rate
    /// ([`crate::Optimizer::lr`], [`crate::Optimizer::set_lr`]).
    fn lr(&self) -> f64;

    /// Checks every option but the learning rate (the group checks that),
    /// naming any invalid value.
    ///
    /// # Errors
    /// [`OptimError::InvalidOption`] for the first invalid option.
    fn validate(&self) -> Result<(), OptimError>;

    /// Every option but the learning rate, as numbers: checkpoints record
    /// them, and state saved under other options does not load (after the
    /// saved momentum is restored, see [`RuleOptions::momentum`]).
    fn options(&self) -> Vec<(String, f64)>;

    /// The momentum factor (SGD, RMSprop) or `beta1` (the Adam family) that
    /// cyclical schedules cycle and checkpoints restore; `None` for rules
    /// without one.
    fn momentum(&self) -> Option<f64> {
        None
    }

    /// Sets what [`RuleOptions::momentum`] reports; called only on rules
    /// whose `momentum` is `Some`.
    fn set_momentum(&mut self, momentum: f64) {
        let _ = momentum;
    }
}

/// An option's type: how checkpoints record it, as named numbers.
pub(crate) trait OptionValue {
    /// Appends the option's numbers, named after `name`.
    fn record(&self, name: &str, out: &mut Vec<(String, f64)>);
}

impl OptionValue for f64 {
    fn record(&self, name: &str, out: &mut Vec<(String, f64)>) {
        out.push((name.to_string(), *self));
    }
}

impl OptionValue for bool {
    fn record(&self, name: &str, out: &mut Vec<(String, f64)>) {
        out.push((name.to_string(), if *self { 1.0 } else { 0.0 }));
    }
}

/// Adam's `betas`, recorded as `betas.0` and `betas.1`.
impl OptionValue for (f64, f64) {
    fn record(&self, name: &str, out: &mut Vec<(String, f64)>) {
        out.push((format!("{name}.0"), self.0));
        out.push((format!("{name}.1"), self.1));
    }
}

/// The option a cyclical schedule cycles: a momentum factor, or the first
/// of Adam's `betas`.
pub(crate) trait Cycled {
    /// The momentum.
    fn momentum(&self) -> f64;
    /// Sets the momentum.
    fn set_momentum(&mut self, momentum: f64);
}

impl Cycled for f64 {
    fn momentum(&self) -> f64 {
        *self
    }

    fn set_momentum(&mut self, momentum: f64) {
        *self = momentum;
    }
}

/// `beta1` is the Adam family's momentum.
impl Cycled for (f64, f64) {
    fn momentum(&self) -> f64 {
        self.0
    }

    fn set_momentum(&mut self, momentum: f64) {
        self.0 = momentum;
    }
}

/// Declares a rule's options from one list: the struct (a private `lr`,
/// each option as a documented public field, and `maximize`, which every
/// PyTorch optimizer has), `new(lr)` with the listed defaults, `Default`
/// with PyTorch's learning rate, one builder method per option, and
/// [`RuleOptions`]: each option is checked by the function after its `=>`,
/// and recorded as [`OptionValue`] says. The header names the kind, the
/// default learning rate, the option that cyclical schedules cycle, and a
/// check across options.
macro_rules! rule_options {
    (
        $(#[$meta:meta])*
        pub struct $name:ident [
            $kind:literal, lr $lr:literal $(, momentum $cycled:ident)? $(, check $across:path)?
        ] {
            $( $(#[$doc:meta])* $field:ident: $type:ty = $default:expr => $check:path ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name {
            lr: f64,
            $( $(#[$doc])* pub $field: $type, )*
            /// Maximize the objective instead of minimizing it (the
            /// gradient is negated first).
            pub maximize: bool,
        }

        impl $name {
            #[doc = concat!(
                "`", stringify!($name), "` with learning rate `lr` and PyTorch's other defaults."
            )]
            pub fn new(lr: f64) -> $name {
                $name { lr, $( $field: $default, )* maximize: false }
            }
        }

        impl Default for $name {
            #[doc = concat!("PyTorch's defaults, with its learning rate ", stringify!($lr), ".")]
            fn default() -> $name {
                $name::new($lr)
            }
        }

        $crate::builder::builder_methods!($name { $( $field: $type, )* maximize: bool });

        impl $crate::options::RuleOptions for $name {
            const KIND: &'static str = $kind;

            fn lr(&self) -> f64 {
                self.lr
            }

            fn validate(&self) -> Result<(), $crate::error::OptimError> {
                $( $check(stringify!($field), self.$field)?; )*
                $( $across(self)?; )?
                Ok(())
            }

            fn options(&self) -> Vec<(String, f64)> {
                let mut options = Vec::new();
                $crate::options::OptionValue::record(&self.maximize, "maximize", &mut options);
                $(
                    $crate::options::OptionValue::record(
                        &self.$field,
                        stringify!($field),
                        &mut options,
                    );
                )*
                options
            }

            $(
                fn momentum(&self) -> Option<f64> {
                    Some($crate::options::Cycled::momentum(&self.$cycled))
                }

                fn set_momentum(&mut self, momentum: f64) {
                    $crate::options::Cycled::set_momentum(&mut self.$cycled, momentum);
                }
            )?
        }
    };
}

pub(crate) use rule_options;
