//! What a notification carries: its event type and the decrypted resource. The resource's
//! typed shapes are the catalog's (`wxpay::notification::Event`), defined once there.

use std::fmt;

use serde::de::DeserializeOwned;

use super::resource_error;
use crate::error::NotificationError;

pub use super::event_type::EventType;

/// The decrypted resource of a notification, as JSON; [`Resource::deserialize`] types it.
///
/// It may hold personal data, so `Debug` shows only the event type; read it deliberately with
/// [`Resource::json`] or [`Resource::deserialize`].
#[derive(Clone)]
pub struct Resource {
    event_type: EventType,
    json: serde_json::Value,
}

impl Resource {
    /// A resource of `event_type` from JSON already decrypted (one stored to be typed later,
    /// say). Reading a notification makes one only after its signature has verified.
    pub fn new(event_type: EventType, json: serde_json::Value) -> Self {
        Resource { event_type, json }
    }

    /// The event type of the notification it came with.
    pub fn event_type(&self) -> &EventType {
        &self.event_type
    }

    /// The decrypted JSON.
    pub fn json(&self) -> &serde_json::Value {
        &self.json
    }

    /// Decodes the resource into a type of your own.
    ///
    /// # Errors
    /// [`NotificationError::MalformedResource`] (naming the position, not the value).
    ///
    /// ```no_run
    /// # fn run(resource: wxpay_core::notification::Resource) -> Result<(), wxpay_core::NotificationError> {
    /// #[derive(serde::Deserialize)]
    /// struct CouponSend { coupon_id: String }
    /// let sent: CouponSend = resource.deserialize()?;
    /// println!("{}", sent.coupon_id);
    /// # Ok(()) }
    /// ```
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, NotificationError> {
        T::deserialize(&self.json).map_err(|e| resource_error(&self.event_type, &e))
    }
}

impl fmt::Debug for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resource")
            .field("event_type", &self.event_type.as_str())
            .field("json", &format_args!("<redacted>"))
            .finish()
    }
}
