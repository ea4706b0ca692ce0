//! What syn leaves unread in a Rust file: the arguments of a macro call, which it keeps as
//! tokens. Those that read as expressions (`ensure!(len <= libc::PIPE_BUF, ..)`,
//! `say!("{}", unsafe { .. })`) are what a visitor of the recipes must see too.

use syn::parse::Parser;
use syn::punctuated::Punctuated;

/// The arguments of `mac` as expressions; none when they are not a list of expressions (a
/// `macro_rules!` body, say).
pub fn macro_arguments(mac: &syn::Macro) -> Vec<syn::Expr> {
    let parser = Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
    parser.parse2(mac.tokens.clone()).map(|list| list.into_iter().collect()).unwrap_or_default()
}
