//! The protocol against the real local model server (Qwen2.5-Coder 0.5B on 127.0.0.1).

use anquan_llm::{Client, Message, TargetConfig};
use anquan_testkit::ModelServer;

#[tokio::test]
async fn real_model_answers_streamed_and_whole_multi_turn() {
    let server = ModelServer::start().unwrap_or_else(|e| panic!("{e}"));
    let mut t = TargetConfig::openai(server.base_url(), server.model());
    t.max_tokens = 24;
    t.system_prompt = Some("You are a helpful assistant. Answer briefly.".into());
    let models = Client::new(t.clone()).unwrap().models().await.unwrap();
    assert!(models.iter().any(|m| m == server.model()), "{models:?}");
    let convo = vec![
        Message::new("user", "My name is Lin. Reply with OK."),
        Message::new("assistant", "OK."),
        Message::new("user", "What is my name? One word."),
    ];
    let mut answers = Vec::new();
    for stream in [true, false] {
        t.stream = stream;
        let r = Client::new(t.clone()).unwrap().chat(&convo).await.unwrap();
        assert!(!r.content.trim().is_empty());
        assert!(r.usage.completion_tokens > 0 && r.usage.completion_tokens <= 24 + 1);
        assert_eq!(r.timings.first_token_ms.is_some(), stream);
        answers.push(r.content);
    }
    // Greedy decoding: the same conversation gives the same answer, streamed or not.
    assert_eq!(answers[0], answers[1]);
    assert!(answers[0].contains("Lin"), "{answers:?}");
}
