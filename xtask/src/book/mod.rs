//! The book: its sources generated from the repository (`site`), built with a pinned mdBook
//! (`mdbook`), and checked as a reader sees it: every link and anchor (`links`), and the pages
//! in headless Chromium (`browser`).

pub mod api_docs;
pub mod browser;
pub mod links;
pub mod mdbook;
pub mod site;
pub mod uses;
pub mod what_it_uses;
