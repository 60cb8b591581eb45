process.stderr.write("cli: not yet\n"); process.exit(2);
