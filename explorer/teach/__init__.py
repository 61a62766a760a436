"""Teaching material as data and pure functions: the glossary, theory panels, guided walkthroughs
driven by a config, and seeded exercises. Text is English source marked for the gettext catalog
(``explorer.i18n``); every number comes from the engine. Never imports streamlit."""
