"""Patient input: bytes, a FHIR Bundle or the builder, to a patient graph."""
