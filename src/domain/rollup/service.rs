//! The service levels of a report from the rollups. Whether a request without an answer has
//! missed its target, and whether a conversation is open, lapsed or closed, depend on `now`:
//! they are not summed per day but computed at report time from the facts of the window's
//! conversations, through the very functions of the replay (`domain::sla`), on a timeline made
//! of those facts. The figures are therefore the replay's by construction, not a second
//! implementation of the same rules.

use super::ConversationFact;
use crate::domain::timeline::{Answer, Close, Closer, Conversation, Request, Timeline};

/// A timeline holding what `domain::sla` reads of these conversations (each with its place):
/// their opening and end, and all their requests with their answers. What the service levels
/// do not read (customer ids, message ids, the customer messages) is left empty.
pub fn service_timeline(guild_id: &str, conversations: &[(String, ConversationFact)]) -> Timeline {
    let mut tl = Timeline::default();
    for (place, c) in conversations {
        let index = tl.conversations.len();
        tl.conversations.push(Conversation {
            guild_id: guild_id.to_string(),
            key: place.clone(),
            customer_id: String::new(),
            opened_at: c.opened_at,
            opened_by: c.id.clone(),
            first_request: tl.requests.len(),
            last_message_at: c.opened_at,
            lapses_at: c.ends.lapses_at,
            // Who closed it is not a figure: only when.
            close: c.ends.close_at.map(|at| Close {
                at,
                by: Closer::Author(String::new()),
            }),
            auto_close_at: c.ends.auto_close_at,
        });
        for r in &c.requests {
            tl.requests.push(Request {
                guild_id: guild_id.to_string(),
                conversation: index,
                start: r.start,
                start_id: r.start_id.clone(),
                customer_id: String::new(),
                answer: match (r.answer_at, &r.agent_id) {
                    (Some(at), Some(agent)) => Some(Answer {
                        at,
                        message_id: String::new(),
                        agent_id: agent.clone(),
                    }),
                    _ => None,
                },
                is_first: r.is_first,
            });
        }
    }
    tl
}
