"""RDF building blocks every layer uses: term conversion, query bindings and guard, parsing with input limits."""
