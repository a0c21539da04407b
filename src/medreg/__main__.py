from medreg.cli import app

app()
