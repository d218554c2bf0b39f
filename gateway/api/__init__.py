"""gRPC servicers: they translate between protobuf and the service layer, nothing more."""
