"""UI helpers of the teaching pages (a package, so Streamlit does not list these modules as pages)."""
