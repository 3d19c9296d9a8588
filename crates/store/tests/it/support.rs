//! Helpers of the story suite; the databases themselves come from `store::testing`.

pub(crate) use store::testing::{TestDb, t0, today};

/// Declares `sqlite` and `postgres` tests that run the same story.
#[macro_export]
macro_rules! on_both {
    ($($story:ident),* $(,)?) => {
        $(
            mod $story {
                #[tokio::test]
                async fn sqlite() {
                    let db = store::testing::TestDb::new(store::Backend::Sqlite).await;
                    super::$story(&db).await;
                    db.finish().await;
                }
                #[tokio::test]
                async fn postgres() {
                    let db = store::testing::TestDb::new(store::Backend::Postgres).await;
                    super::$story(&db).await;
                    db.finish().await;
                }
            }
        )*
    };
}
