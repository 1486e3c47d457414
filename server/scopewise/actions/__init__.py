"""Actions: what a request costs and how it runs — planning (`plan`), the sliding scale
(`routing`), what is asked (`prompts`), and how answers become checked edits (`edits`)."""
