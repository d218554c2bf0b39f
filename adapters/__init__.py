"""Province codecs: translate the national medical-insurance interface
(两定接口) and local dialects into the gateway's domain input."""
