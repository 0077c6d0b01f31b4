//! A local stand-in for the WeChat Pay APIv3 platform. STUB.
