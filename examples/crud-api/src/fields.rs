//! Field-level encryption of the clients' contact details: `email` (searchable through its
//! blind index) and `phone` are stored encrypted under a data key per user, so a leaked
//! backup or an over-broad database role shows ciphertext; erasing the account destroys the
//! user's data key (crypto-shredding) as well as their records.

use std::path::PathBuf;
use std::sync::Arc;

use bson::{Bson, Document};
use mongodb::Database;
use palisade_crypt::{
    BlindIndex, EncryptedFields, Envelope, FieldPlace, KeyName, KeyScope, LocalKeyWrapper,
};
use palisade_mongo::{DriverError, MongoKeyStore};
use palisade_secrets::{Registry, SecretRef, SecretSource as _, SecretValue};

use crate::error::ApiError;
use crate::settings::Settings;
use crate::state::StartError;

/// The collection whose fields are encrypted.
pub(crate) const ENCRYPTED_ENTITY: &str = "clients";

/// The keys and the field map.
#[derive(Debug, Clone)]
pub(crate) struct Fields {
    envelope: Arc<Envelope>,
    clients: Arc<EncryptedFields>,
}

impl Fields {
    /// The envelope (data keys in the accounts database's `data_keys` collection, wrapped by
    /// `FIELD_KEY`) and the clients' field map.
    pub(crate) async fn build(
        settings: &Settings,
        registry: &Registry,
        directory: &Database,
    ) -> Result<Self, StartError> {
        let kek = key(settings.field_key.as_ref(), "field", registry, "FIELD_KEY").await?;
        let index = key(
            settings.field_index_key.as_ref(),
            "field-index",
            registry,
            "FIELD_INDEX_KEY",
        )
        .await?;
        let store = MongoKeyStore::new(directory.collection("data_keys"));
        store
            .create_indexes()
            .await
            .map_err(|e| StartError(format!("the data keys' index: {e}")))?;
        let wrapper =
            LocalKeyWrapper::new(1, &kek).map_err(|e| StartError(format!("FIELD_KEY: {e}")))?;
        let name = KeyName::new("crud-api").map_err(|e| StartError(e.to_string()))?;
        let envelope = Arc::new(Envelope::new(name, Arc::new(wrapper), Arc::new(store)));
        let index = Arc::new(
            BlindIndex::new(&index, BlindIndex::DEFAULT_LEN)
                .map_err(|e| StartError(format!("FIELD_INDEX_KEY: {e}")))?,
        );
        let clients = EncryptedFields::new(Arc::clone(&envelope))
            .searchable("email", index)
            .and_then(|fields| fields.field("phone"))
            .map_err(|e| StartError(e.to_string()))?;
        Ok(Self {
            envelope,
            clients: Arc::new(clients),
        })
    }

    /// The field map of `entity`, when it has encrypted fields.
    pub(crate) fn of(&self, entity: &str) -> Option<Arc<EncryptedFields>> {
        (entity == ENCRYPTED_ENTITY).then(|| Arc::clone(&self.clients))
    }

    /// Whose data key encrypts a user's fields.
    pub(crate) fn scope(user_id: &str) -> Result<KeyScope, ApiError> {
        KeyScope::new(format!("user:{user_id}")).map_err(|_| ApiError::unauthorized())
    }

    /// Destroys the user's data keys: their encrypted fields, wherever copies went, become
    /// unreadable.
    pub(crate) async fn shred(&self, user_id: &str) -> Result<u64, ApiError> {
        self.envelope
            .shred(&Self::scope(user_id)?)
            .await
            .map_err(|e| ApiError::Mongo(DriverError::Crypt(e)))
    }

    /// Decrypts the encrypted fields of an export (`{collection: [records]}`) in place.
    pub(crate) async fn decrypt_export(
        &self,
        database: &Database,
        export: &mut Document,
    ) -> Result<(), ApiError> {
        let place = FieldPlace::new(database.name(), ENCRYPTED_ENTITY);
        if let Some(Bson::Array(records)) = export.get_mut(ENCRYPTED_ENTITY) {
            for record in records {
                if let Bson::Document(record) = record {
                    self.clients
                        .decrypt_document(&place, record)
                        .await
                        .map_err(|e| ApiError::Mongo(DriverError::Crypt(e)))?;
                }
            }
        }
        Ok(())
    }
}

/// The key behind `reference`, or (without one, in `dev` and `test`) the development key
/// `name` kept in the system's temporary directory, made on first use.
async fn key(
    reference: Option<&SecretRef>,
    name: &str,
    registry: &Registry,
    setting: &str,
) -> Result<SecretValue, StartError> {
    match reference {
        Some(reference) => registry
            .fetch(reference)
            .await
            .map_err(|e| StartError(format!("{setting}: {e}"))),
        None => development_key(name).map_err(|e| StartError(format!("{setting}: {e}"))),
    }
}

fn development_key(name: &str) -> std::io::Result<SecretValue> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let dir: PathBuf = std::env::temp_dir().join("crud-api-dev-keys");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{name}.key"));
    if let Ok(text) = std::fs::read_to_string(&path) {
        return Ok(SecretValue::from_string(text));
    }
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes).map_err(std::io::Error::other)?;
    let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
    {
        Ok(mut file) => file.write_all(text.as_bytes())?,
        // Another instance made it first: use that one.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    std::fs::read_to_string(&path).map(SecretValue::from_string)
}
