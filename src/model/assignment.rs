//! Why a chat's assignee changed (stored in `assignments.reason`, carried by
//! `chat.assigned`).

stored_enum! {
    pub enum Reason: "assignment reason" {
        /// Handed out by the policy (a new chat, the queue, a reopened chat).
        Policy = "policy",
        /// A chat reopened by its contact went back to its previous, Online assignee.
        Returned = "returned",
        /// The assignee did not answer in time; the next Online operator got it.
        NoAnswer = "no_answer",
        /// An operator transferred it by hand.
        Transfer = "transfer",
        /// The assignee went Offline and the chat went back to the queue.
        Offline = "offline",
        /// Reopened by its contact while nobody could take it: it waits in the queue.
        Reopened = "reopened",
    }
}

impl Reason {
    /// Whether the new assignee is expected to answer within the answer timeout.
    pub fn awaits_answer(self) -> bool {
        matches!(self, Reason::Policy | Reason::Returned | Reason::NoAnswer)
    }
}
