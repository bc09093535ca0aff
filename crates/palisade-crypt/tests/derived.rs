//! `DerivedKeys` on an injected clock: a derived key is as new as the moment it is loaded,
//! on the clock the application gave it.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use palisade_clock::Clock;
use palisade_crypt::{Algorithm, DataKeyId, DataKeyStore as _, DerivedKeys, KeyName};
use palisade_secrets::SecretValue;
use palisade_test::FakeClock;

fn derived(clock: Arc<dyn Clock>) -> DerivedKeys {
    DerivedKeys::new(
        &SecretValue::from_bytes(vec![7; 32]),
        KeyName::new("orders").unwrap(),
        1,
        Algorithm::Aes256Gcm,
    )
    .unwrap()
    .with_clock(clock)
}

#[tokio::test]
async fn a_loaded_key_is_created_at_the_injected_clocks_time() {
    let start = UNIX_EPOCH + Duration::from_secs(2_200_000_000);
    let clock = Arc::new(FakeClock::with_wall_start(start));
    let keys = derived(clock.clone());
    let id = DataKeyId::random().unwrap();
    let stored = keys.load(&id).await.unwrap().unwrap();
    assert_eq!(stored.created_at, 2_200_000_000);
    clock.advance(Duration::from_secs(90));
    let again = keys.load(&id).await.unwrap().unwrap();
    assert_eq!(again.created_at, 2_200_000_090);
    assert_ne!(
        again.created_at,
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
    );
}
