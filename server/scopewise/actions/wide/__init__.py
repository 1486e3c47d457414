"""A wide change in steps: deep plans it, a cheaper tier writes it file by file, and
verification (no model) checks every site before anything is offered."""
