"""Local stand-ins for the messaging providers: real HTTP servers that speak enough of
Twilio's and Phaxio's REST APIs for the adapters' tests, the dispatcher's crash tests and a
demo without accounts. Point ``TWILIO_API_BASE_URL`` / ``PHAXIO_API_BASE_URL`` at one."""
